import { expect, test } from "bun:test";
import { formatBalance, formatMultiplier, formatStake } from "./format.ts";

test("multipliers read short and are never rounded up", () => {
  expect(formatMultiplier(1.01)).toBe("1.01×");
  expect(formatMultiplier(2.35)).toBe("2.35×");
  expect(formatMultiplier(12.37)).toBe("12.3×");
  expect(formatMultiplier(99.99)).toBe("99.9×");
  expect(formatMultiplier(100)).toBe("100×");
});

test("balances always show cents, stakes only when they have some", () => {
  expect(formatBalance(1000)).toBe("$1,000.00");
  expect(formatBalance(994.9)).toBe("$994.90");
  expect(formatStake(0.1)).toBe("$0.10");
  expect(formatStake(5)).toBe("$5");
});
