/**
 * A token bucket's state: plain fields, so a caller with thousands of them
 * (ws, one per connection) can keep them inline on its own objects.
 *
 * ```ts
 * interface Connection extends TokenBucket { id: string }
 * const connection: Connection = { id: "c1", ...fullBucket(50, Date.now()) };
 * ```
 */
export interface TokenBucket {
  tokens: number;
  /** When `tokens` was last brought up to date, in ms. */
  refilledAt: number;
}

/**
 * How a bucket refills: `rate` tokens a second, holding at most `burst`.
 *
 * ```ts
 * const perPlayer: BucketRate = { rate: 10, burst: 10 };
 * takeToken(bucket, perPlayer, Date.now());
 * ```
 */
export interface BucketRate {
  rate: number;
  burst: number;
}

/**
 * A full bucket: `burst` takes are allowed at once.
 *
 * ```ts
 * const bucket = fullBucket(50, Date.now());
 * ```
 */
export function fullBucket(burst: number, now: number): TokenBucket {
  return { tokens: burst, refilledAt: now };
}

/**
 * Refills `bucket` for the time since it was last refilled, then takes one
 * token from it; false (and nothing taken) when there is none. A clock that
 * went back refills nothing.
 *
 * ```ts
 * const bucket = fullBucket(2, 0);
 * takeToken(bucket, { rate: 2, burst: 2 }, 0); // true
 * takeToken(bucket, { rate: 2, burst: 2 }, 0); // true
 * takeToken(bucket, { rate: 2, burst: 2 }, 0); // false
 * takeToken(bucket, { rate: 2, burst: 2 }, 500); // true: half a second is one token
 * ```
 */
export function takeToken(bucket: TokenBucket, { rate, burst }: BucketRate, now: number): boolean {
  const elapsed = now - bucket.refilledAt;
  if (elapsed > 0) {
    bucket.tokens = Math.min(burst, bucket.tokens + (elapsed * rate) / 1000);
    bucket.refilledAt = now;
  }
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

/**
 * How many ms until `bucket` holds a whole token again (0 when it does):
 * the `Retry-After` of a refused take.
 *
 * ```ts
 * const bucket = { tokens: 0.5, refilledAt: 0 };
 * msUntilToken(bucket, 10); // 50
 * ```
 */
export function msUntilToken(bucket: TokenBucket, rate: number): number {
  return bucket.tokens >= 1 ? 0 : Math.ceil(((1 - bucket.tokens) * 1000) / rate);
}
