import { describe, expect, test } from "bun:test";
import { createRateLimiter } from "./rate-limiter.ts";

describe("createRateLimiter", () => {
  test("allows a burst, then one take per 1/rate seconds, per key", () => {
    const limiter = createRateLimiter({ rate: 10 });
    for (let i = 0; i < 10; i++) expect(limiter.take("a", 0).ok).toBe(true);
    expect(limiter.take("a", 0)).toEqual({ ok: false, retryAfterMs: 100 });
    expect(limiter.take("b", 0).ok).toBe(true);
    expect(limiter.take("a", 100).ok).toBe(true);
    expect(limiter.take("a", 100).ok).toBe(false);
  });

  test("forgets refilled buckets and never holds more than maxKeys", () => {
    const limiter = createRateLimiter({ rate: 1, burst: 1, maxKeys: 3 });
    for (const key of ["a", "b", "c"]) limiter.take(key, 0);
    expect(limiter.take("d", 10).ok).toBe(false);
    expect(limiter.size).toBe(3);
    expect(limiter.take("d", 5000).ok).toBe(true);
    expect(limiter.size).toBe(1);
  });
});
