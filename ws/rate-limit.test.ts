import { expect, test } from "bun:test";
import { fullBudget, takeMessage } from "./rate-limit.ts";

test("allows a burst of the rate, then refills with time", () => {
  const budget = fullBudget(3, 0);
  expect([1, 2, 3, 4].map(() => takeMessage(budget, 3, 0))).toEqual([true, true, true, false]);
  expect(takeMessage(budget, 3, 100)).toBe(false);
  expect(takeMessage(budget, 3, 340)).toBe(true);
  expect(takeMessage(budget, 3, 340)).toBe(false);
});

test("never saves more than one second's worth", () => {
  const budget = fullBudget(2, 0);
  expect([1, 2, 3].map(() => takeMessage(budget, 2, 60_000))).toEqual([true, true, false]);
});
