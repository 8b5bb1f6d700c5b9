import { fullBucket, msUntilToken, type TokenBucket, takeToken } from "../../common/token-bucket.ts";

/**
 * Limits how often each key (a player, an address) may do something.
 *
 * ```ts
 * const taken = limiter.take(address, Date.now());
 * if (!taken.ok) throw new HttpError(429, "rate_limited", "slow down", [], { "retry-after": String(Math.ceil(taken.retryAfterMs / 1000)) });
 * ```
 */
export interface RateLimiter {
  /** Takes one token for `key`; when none is left, how many ms until one is. */
  take(key: string, now: number): { ok: true } | { ok: false; retryAfterMs: number };
  /** Keys with a bucket now. */
  readonly size: number;
}

/**
 * A table of token buckets (`common/token-bucket.ts`), one per key: `rate`
 * tokens a second, up to `burst`. Buckets that have refilled completely are
 * forgotten, and the table never holds more than `maxKeys`, so callers cannot
 * make it grow without bound.
 *
 * ```ts
 * const limiter = createRateLimiter({ rate: 10 });
 * const taken = limiter.take(playerId, Date.now());
 * if (!taken.ok) console.log(`retry in ${taken.retryAfterMs} ms`);
 * ```
 */
export function createRateLimiter({ rate, burst = rate, maxKeys = 100_000 }: { rate: number; burst?: number; maxKeys?: number }): RateLimiter {
  const buckets = new Map<string, TokenBucket>();
  const refill = { rate, burst };
  const fullAfterMs = (burst / rate) * 1000;
  let lastSweep = 0;

  const sweep = (now: number) => {
    lastSweep = now;
    for (const [key, bucket] of buckets) if (now - bucket.refilledAt >= fullAfterMs) buckets.delete(key);
  };

  return {
    take(key, now) {
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= maxKeys || now - lastSweep > fullAfterMs) sweep(now);
        // Still full of live buckets: refuse rather than grow.
        if (buckets.size >= maxKeys) return { ok: false, retryAfterMs: Math.ceil(1000 / rate) };
        bucket = fullBucket(burst, now);
        buckets.set(key, bucket);
      }
      return takeToken(bucket, refill, now) ? { ok: true } : { ok: false, retryAfterMs: msUntilToken(bucket, rate) };
    },
    get size() {
      return buckets.size;
    },
  };
}
