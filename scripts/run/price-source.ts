/** How long `make run` gives the exchanges to answer before it falls back to simulated prices. */
export const VENUE_WAIT_MS = 10_000;

/** What the banner says about the prices (scripts/run/banner.ts). */
export type PriceSourceOutcome =
  /** From the exchanges: `live` names the venues quoting when asked, of `configured`. */
  | { source: "venues"; live: string[]; configured: number; asked: boolean }
  /** Simulated: asked for (`PRICE_SOURCE=mock`), or the fallback when no exchange answered in time. */
  | { source: "mock"; fallback: boolean };

/**
 * The venues price's `/healthz` reports as `live` (quoting now), and how many
 * it connects to; undefined while it does not answer (starting, or no port).
 *
 * ```ts
 * await liveVenues("http://127.0.0.1:8082/healthz"); // { live: ["coinbase", "kraken"], configured: 4 }
 * ```
 */
export async function liveVenues(healthUrl: string): Promise<{ live: string[]; configured: number } | undefined> {
  try {
    // 503 (`down`, no quorum yet) still carries the venues' states.
    const response = await fetch(healthUrl, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { venues?: Record<string, { state?: unknown }> };
    const venues = Object.entries(body.venues ?? {});
    return { live: venues.filter(([, venue]) => venue.state === "live").map(([name]) => name), configured: venues.length };
  } catch {
    return undefined;
  }
}

/**
 * Polls price's `/healthz` until a venue is live, `timeoutMs` passes or
 * `cancelled()` says to give up; resolves with the live venues (none when it
 * gave up) and how many are configured.
 *
 * ```ts
 * const { live } = await waitForLiveVenue({ healthUrl, timeoutMs: VENUE_WAIT_MS, cancelled: () => run.stopping() });
 * if (live.length === 0) await run.replace(mockPriceSpec);
 * ```
 */
export async function waitForLiveVenue({
  healthUrl,
  timeoutMs,
  cancelled = () => false,
  everyMs = 200,
}: {
  healthUrl: string;
  timeoutMs: number;
  cancelled?: () => boolean;
  everyMs?: number;
}): Promise<{ live: string[]; configured: number }> {
  const deadline = Date.now() + timeoutMs;
  let configured = 0;
  while (!cancelled()) {
    const seen = await liveVenues(healthUrl);
    if (seen) configured = seen.configured;
    if (seen && seen.live.length > 0) return seen;
    const left = deadline - Date.now();
    if (left <= 0) break;
    await Bun.sleep(Math.min(everyMs, left));
  }
  return { live: [], configured };
}

/**
 * Polls price's `/healthz` until it answers 200, i.e. price has made a tick
 * lately (ok or degraded), `timeoutMs` passes or `cancelled()` says to give
 * up; resolves with whether it did.
 *
 * ```ts
 * if (!(await waitForPriceTicks({ healthUrl, timeoutMs: 10_000 }))) console.warn("no tick yet");
 * ```
 */
export async function waitForPriceTicks({
  healthUrl,
  timeoutMs,
  cancelled = () => false,
  everyMs = 100,
}: {
  healthUrl: string;
  timeoutMs: number;
  cancelled?: () => boolean;
  everyMs?: number;
}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cancelled()) {
    try {
      const response = await fetch(healthUrl, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.status === 200) return true;
    } catch {
      // Not listening yet.
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await Bun.sleep(Math.min(everyMs, left));
  }
  return false;
}
