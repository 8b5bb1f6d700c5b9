import { describe, expect, test } from "bun:test";
import { systemClock, TIMER_LEAD_MS } from "./clock.ts";

describe("systemClock.setTimer", () => {
  test("never calls before its time, whether it sleeps first or only polls", async () => {
    for (const ms of [0, 1, TIMER_LEAD_MS, TIMER_LEAD_MS + 5, 30]) {
      const due = Date.now() + ms;
      const calledAt = await new Promise<number>((resolve) => systemClock.setTimer(() => resolve(Date.now()), ms));
      expect(calledAt).toBeGreaterThanOrEqual(due);
    }
  });

  test("a timer cancelled while it sleeps or while it polls is never called", async () => {
    let calls = 0;
    const sleeping = systemClock.setTimer(() => calls++, 30);
    sleeping();
    // A timer this close to its time skips the sleep and polls from the next turn.
    const polling = systemClock.setTimer(() => calls++, 0);
    polling();
    await Bun.sleep(40);
    expect(calls).toBe(0);
  });
});
