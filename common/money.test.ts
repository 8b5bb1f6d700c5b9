import { describe, expect, test } from "bun:test";
import { fromCents, toCents } from "./money.ts";

describe("toCents", () => {
  test("accepts amounts with up to two decimals despite float noise", () => {
    expect(toCents(0.07)).toBe(7);
    expect(toCents(12.34)).toBe(1234);
    expect(toCents(42012.3)).toBe(4201230);
    expect(toCents(100000)).toBe(10000000);
  });
  test("is exact at the edges: the cent, binary fractions, the largest stake and price", () => {
    expect(toCents(0.01)).toBe(1);
    expect(toCents(0.1)).toBe(10);
    expect(toCents(1.1)).toBe(110);
    expect(toCents(19.99)).toBe(1999);
    expect(toCents(100)).toBe(10000);
    expect(toCents(0)).toBe(0);
    expect(toCents(999_999.99)).toBe(99_999_999);
    expect(toCents(1_000_000)).toBe(100_000_000);
    expect(toCents(99_999_999.99)).toBe(9_999_999_999);
    expect(toCents(-12.5)).toBe(-1250);
  });
  test("rejects a third decimal and non-finite numbers", () => {
    expect(toCents(1.005)).toBeUndefined();
    expect(toCents(0.001)).toBeUndefined();
    expect(toCents(Number.NaN)).toBeUndefined();
    expect(toCents(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
  test("rejects any further decimal, however small or far out", () => {
    expect(toCents(99.999999999)).toBeUndefined();
    expect(toCents(10.001)).toBeUndefined();
    expect(toCents(1.999999999)).toBeUndefined();
    expect(toCents(0.009999999)).toBeUndefined();
    expect(toCents(1e-7)).toBeUndefined();
    expect(toCents(5e-324)).toBeUndefined();
    expect(toCents(999_999.999)).toBeUndefined();
    expect(toCents(1_000_000.0000001)).toBeUndefined();
  });
  test("rejects amounts whose cents are no longer exact integers", () => {
    expect(toCents(2 ** 53)).toBeUndefined();
    expect(toCents(1e21)).toBeUndefined();
    expect(toCents(Number.MAX_VALUE)).toBeUndefined();
  });
  test("round-trips through fromCents", () => {
    expect(fromCents(toCents(99.99)!)).toBe(99.99);
    for (let cents = 0; cents <= 100_000; cents += 7) expect(toCents(fromCents(cents))).toBe(cents);
  });
});
