import type { Logger } from "../common/log.ts";

/**
 * One venue as `/healthz` shows it.
 *
 * ```ts
 * const venue: VenueHealth = { state: "live", age_ms: 120, reconnects: 0, dropped: 0, gaps: 0 };
 * ```
 */
export interface VenueHealth {
  state: "connecting" | "live" | "stale" | "excluded" | "down";
  /** Age of its last quote, ms; null before the first. */
  age_ms: number | null;
  reconnects: number;
  /** Frames that did not parse, and messages older than one already read. */
  dropped: number;
  /** Times the venue's own ids showed missed messages (Coinbase: a heartbeat ahead of the tickers). */
  gaps: number;
}

/**
 * The price service's health: `down` without a quorum (no tick is published).
 *
 * ```ts
 * const health: PriceHealth = { status: "ok", source: "venues", venues: {}, last_tick: { ts: 1_700_000_000_000, age_ms: 250, venues: 3 } };
 * ```
 */
export interface PriceHealth {
  status: "ok" | "degraded" | "down";
  source: string;
  venues: Record<string, VenueHealth>;
  /** The last tick published: its time and how many venues made it. */
  last_tick: { ts: number; age_ms: number; venues: number | null } | null;
}

/**
 * `GET /healthz` (and `/price/healthz`) on its own port: 200 while ticks can be
 * made (`ok`, or `degraded` when some venue is not live), 503 when `down`.
 * Anything else is 404. Binds to 127.0.0.1 unless told otherwise: it is for the
 * host's own checks (systemd, the installer, monitoring through a local agent).
 *
 * ```ts
 * const health = startPriceHealth({ port: 8082, report: () => ({ status: "ok", source: "mock", venues: {}, last_tick: null }), log });
 * health.stop();
 * ```
 */
export function startPriceHealth({ port, hostname = "127.0.0.1", report, log }: { port: number; hostname?: string; report: () => PriceHealth; log: Logger }) {
  const server = Bun.serve({
    port,
    hostname,
    fetch(request) {
      const path = new URL(request.url).pathname;
      if (request.method !== "GET" || (path !== "/healthz" && path !== "/price/healthz")) {
        return Response.json({ error: { code: "not_found", message: `no route for ${request.method} ${path}`, details: [] } }, { status: 404 });
      }
      const health = report();
      return Response.json(health, { status: health.status === "down" ? 503 : 200 });
    },
  });
  log.info({ port: server.port, hostname }, "health listening");
  return {
    port: server.port as number,
    stop: () => server.stop(true),
  };
}
