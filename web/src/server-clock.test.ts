import { expect, test } from "bun:test";
import { createServerClock } from "./server-clock.ts";

test("takes the offset from the quickest round trip", () => {
  let local = 1_000;
  const clock = createServerClock(() => local);
  expect(clock.now()).toBe(1_000);
  // Server 500 ms ahead; a slow round trip (200 ms) misjudges it, a quick one (10 ms) does not.
  clock.observe(1_000, 1_600, 1_200);
  expect(clock.now()).toBe(1_000 + 500);
  clock.observe(2_000, 2_505, 2_010);
  local = 3_000;
  expect(clock.now()).toBe(3_500);
  clock.observe(5, Number.NaN, 10);
  clock.observe(10, 50, 5);
  expect(clock.now()).toBe(3_500);
});
