import { describe, expect, test } from "bun:test";
import { fromCents, toCents } from "./money.ts";

describe("toCents", () => {
  test("accepts amounts with up to two decimals despite float noise", () => {
    expect(toCents(0.07)).toBe(7);
    expect(toCents(12.34)).toBe(1234);
    expect(toCents(42012.3)).toBe(4201230);
    expect(toCents(100000)).toBe(10000000);
  });
  test("rejects a third decimal and non-finite numbers", () => {
    expect(toCents(1.005)).toBeUndefined();
    expect(toCents(0.001)).toBeUndefined();
    expect(toCents(Number.NaN)).toBeUndefined();
    expect(toCents(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
  test("round-trips through fromCents", () => {
    expect(fromCents(toCents(99.99)!)).toBe(99.99);
  });
});
