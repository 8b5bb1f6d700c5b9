import { expect, test } from "bun:test";
import { reconnectDelay } from "./backoff.ts";

test("doubles up to the ceiling, with jitter in the upper half", () => {
  expect(reconnectDelay(0, { random: () => 0 })).toBe(250);
  expect(reconnectDelay(0, { random: () => 0.999999 })).toBe(500);
  expect(reconnectDelay(3, { random: () => 0 })).toBe(2000);
  expect(reconnectDelay(10, { random: () => 0 })).toBe(5000);
  expect(reconnectDelay(10, { random: () => 0.999999 })).toBe(10_000);
  const spread = new Set(Array.from({ length: 50 }, () => reconnectDelay(2)));
  expect(spread.size).toBeGreaterThan(10);
});
