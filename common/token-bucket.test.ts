import { expect, test } from "bun:test";
import { fullBucket, msUntilToken, takeToken } from "./token-bucket.ts";

test("allows a burst, then refills with time", () => {
  const bucket = fullBucket(3, 0);
  const rate = { rate: 3, burst: 3 };
  expect([1, 2, 3, 4].map(() => takeToken(bucket, rate, 0))).toEqual([true, true, true, false]);
  expect(takeToken(bucket, rate, 100)).toBe(false);
  expect(takeToken(bucket, rate, 340)).toBe(true);
  expect(takeToken(bucket, rate, 340)).toBe(false);
});

test("never holds more than the burst", () => {
  const bucket = fullBucket(2, 0);
  expect([1, 2, 3].map(() => takeToken(bucket, { rate: 2, burst: 2 }, 60_000))).toEqual([true, true, false]);
});

test("a burst larger than the rate: refills at the rate up to the burst", () => {
  const bucket = fullBucket(5, 0);
  const rate = { rate: 1, burst: 5 };
  for (let i = 0; i < 5; i++) expect(takeToken(bucket, rate, 0)).toBe(true);
  expect(takeToken(bucket, rate, 999)).toBe(false);
  expect(takeToken(bucket, rate, 1000)).toBe(true);
});

test("a clock that goes back neither refills nor drains", () => {
  const bucket = fullBucket(1, 1000);
  expect(takeToken(bucket, { rate: 1, burst: 1 }, 1000)).toBe(true);
  expect(takeToken(bucket, { rate: 1, burst: 1 }, 0)).toBe(false);
  expect(bucket).toEqual({ tokens: 0, refilledAt: 1000 });
});

test("msUntilToken: the wait for the next whole token", () => {
  expect(msUntilToken({ tokens: 0, refilledAt: 0 }, 10)).toBe(100);
  expect(msUntilToken({ tokens: 0.5, refilledAt: 0 }, 10)).toBe(50);
  expect(msUntilToken({ tokens: 1, refilledAt: 0 }, 10)).toBe(0);
});
