/**
 * How `reconnectDelay` grows: from `baseMs`, doubling, up to `maxMs`.
 *
 * ```ts
 * reconnectDelay(3, { baseMs: 1_000, maxMs: 30_000, random: () => 0 }); // 4000
 * ```
 */
export interface BackoffOptions {
  /** The delay before the first retry is between half this and this, ms (500). */
  baseMs?: number;
  /** The ceiling the doubling stops at, ms (10,000). */
  maxMs?: number;
  /** A number in [0, 1): `Math.random` unless a test fixes it. */
  random?: () => number;
}

/**
 * How long to wait before reconnect attempt `attempt` (0 for the first): an
 * exponential ceiling with "equal jitter", so a restarted server is not hit by
 * every client at once yet no client waits less than half the ceiling.
 *
 * ```ts
 * reconnectDelay(0) // 250..500
 * reconnectDelay(5) // 5000..10000 (the ceiling)
 * ```
 */
export function reconnectDelay(attempt: number, { baseMs = 500, maxMs = 10_000, random = Math.random }: BackoffOptions = {}): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
