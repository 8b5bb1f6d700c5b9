/**
 * Token buckets per key (a player, an address): `rate` tokens a second, up to
 * `burst`. Buckets that have refilled completely are forgotten, and the table
 * never holds more than `maxKeys`, so callers cannot make it grow without bound.
 */
export interface RateLimiter {
  /** Takes one token for `key`; when none is left, how many ms until one is. */
  take(key: string, now: number): { ok: true } | { ok: false; retryAfterMs: number };
  readonly size: number;
}

export function createRateLimiter({ rate, burst = rate, maxKeys = 100_000 }: { rate: number; burst?: number; maxKeys?: number }): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const fullAfterMs = (burst / rate) * 1000;
  let lastSweep = 0;

  const sweep = (now: number) => {
    lastSweep = now;
    for (const [key, bucket] of buckets) if (now - bucket.at >= fullAfterMs) buckets.delete(key);
  };

  return {
    take(key, now) {
      let bucket = buckets.get(key);
      if (!bucket) {
        if (buckets.size >= maxKeys || now - lastSweep > fullAfterMs) sweep(now);
        // Still full of live buckets: refuse rather than grow.
        if (buckets.size >= maxKeys) return { ok: false, retryAfterMs: Math.ceil(1000 / rate) };
        bucket = { tokens: burst, at: now };
        buckets.set(key, bucket);
      } else {
        bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) * rate) / 1000);
        bucket.at = now;
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) * 1000) / rate) };
    },
    get size() {
      return buckets.size;
    },
  };
}
