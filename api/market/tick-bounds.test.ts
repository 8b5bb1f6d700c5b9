import { describe, expect, test } from "bun:test";
import type { BusTick } from "../../common/contracts/price.ts";
import { admitTick } from "./tick-bounds.ts";

const bounds = { maxSkewMs: 1000, maxJump: 0.01, staleMs: 5000 };
const tick = (price: number, ts: number): BusTick => ({ symbol: "BTC-USD", price, ts, seq: 1 });

describe("admitTick", () => {
  test("refuses a tick more than maxSkewMs ahead of the clock, and takes one exactly at it", () => {
    expect(admitTick(tick(100, 11_001), undefined, 10_000, bounds)).toEqual({ take: false, reason: "future" });
    expect(admitTick(tick(100, 11_000), undefined, 10_000, bounds)).toEqual({ take: true });
  });

  test("refuses a price more than maxJump from the last one while that one is fresh; exactly maxJump is taken", () => {
    const last = tick(100, 10_000);
    expect(admitTick(tick(101.01, 11_000), last, 11_000, bounds)).toEqual({ take: false, reason: "jump" });
    expect(admitTick(tick(98.99, 15_000), last, 15_000, bounds)).toEqual({ take: false, reason: "jump" });
    expect(admitTick(tick(101, 11_000), last, 11_000, bounds)).toEqual({ take: true });
    expect(admitTick(tick(99, 11_000), last, 11_000, bounds)).toEqual({ take: true });
  });

  test("takes a far price once the last one is older than staleMs, after a break", () => {
    const last = tick(100, 10_000);
    expect(admitTick(tick(110, 15_001), last, 15_001, bounds)).toEqual({ take: true, breaks: true });
  });

  test("the first tick has nothing to jump from", () => {
    expect(admitTick(tick(1, 10_000), undefined, 10_000, bounds)).toEqual({ take: true });
  });
});
