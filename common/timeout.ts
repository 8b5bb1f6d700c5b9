/**
 * Rejects when `promise` takes longer than `ms`: a dependency that hangs is as
 * bad as one that fails, and a caller must not wait on it for ever. The
 * timer is cleared either way.
 *
 * ```ts
 * const value = await withTimeout(redis.get(key), 1000, "redis read");
 * // no answer within a second: Error("redis read timed out after 1000 ms")
 * ```
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
