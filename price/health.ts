import type { Logger } from "../common/log.ts";
import { counterReading, gaugeReading, metricsResponse } from "../common/metrics/registry.ts";
import type { PriceWorkerStats } from "./worker.ts";

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
 * made (`ok`, or `degraded` when some venue is not live), 503 when `down`;
 * `GET /metrics`: the process's metrics in the Prometheus text format
 * (`registerPriceMetrics`, docs/metrics.md). Anything else is 404. Binds to
 * 127.0.0.1 unless told otherwise: it is for the host's own checks (systemd,
 * the installer, Prometheus or a monitoring agent on the host).
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
      if (request.method === "GET" && path === "/metrics") return metricsResponse();
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

/** A venue's states, each a series of `tap_price_venue_state` (1 for the one it is in). */
const VENUE_STATES: readonly VenueHealth["state"][] = ["connecting", "live", "stale", "excluded", "down"];
const STATUSES: readonly PriceHealth["status"][] = ["ok", "degraded", "down"];

/**
 * Registers the price service's metrics (docs/metrics.md), read at scrape time
 * from the health report and the tick loop's counters: ticks published,
 * failed and skipped, the last tick's age (the index's), the service's status
 * and each venue's state, quote age, reconnects, dropped messages and gaps.
 *
 * ```ts
 * registerPriceMetrics({ report: health, stats: () => worker.stats() });
 * ```
 */
export function registerPriceMetrics({ report, stats }: { report: () => PriceHealth; stats: () => PriceWorkerStats }): void {
  counterReading({ name: "tap_price_ticks_published_total", help: "Ticks stored and published." }, (set) => set(stats().published));
  counterReading({ name: "tap_price_ticks_failed_total", help: "Ticks whose Redis transaction failed." }, (set) => set(stats().failed));
  counterReading<"reason">({ name: "tap_price_slots_skipped_total", help: "Tick slots that passed without a tick, by reason (busy, disconnected, late, no-price: no quorum of venues).", labelNames: ["reason"] }, (set) => {
    for (const [reason, count] of Object.entries(stats().skipped)) set(count, { reason });
  });
  gaugeReading({ name: "tap_price_last_tick_age_seconds", help: "Age of the last tick published (the index's age), in seconds; absent before the first." }, (set) => {
    const last = report().last_tick;
    if (last) set(last.age_ms / 1000);
  });
  gaugeReading({ name: "tap_price_last_tick_venues", help: "Venues that made the last tick's index (venues source only)." }, (set) => {
    const venues = report().last_tick?.venues;
    if (typeof venues === "number") set(venues);
  });
  gaugeReading<"status">({ name: "tap_price_status", help: "The service's health, as /healthz says it: 1 for the status it is in (ok, degraded, down).", labelNames: ["status"] }, (set) => {
    const { status } = report();
    for (const one of STATUSES) set(one === status ? 1 : 0, { status: one });
  });
  gaugeReading<"venue" | "state">({ name: "tap_price_venue_state", help: "Each venue's state: 1 for the state it is in (connecting, live, stale, excluded, down).", labelNames: ["venue", "state"] }, (set) => {
    for (const [venue, health] of Object.entries(report().venues)) {
      for (const state of VENUE_STATES) set(health.state === state ? 1 : 0, { venue, state });
    }
  });
  gaugeReading<"venue">({ name: "tap_price_venue_quote_age_seconds", help: "Age of each venue's last quote, in seconds; absent before its first.", labelNames: ["venue"] }, (set) => {
    for (const [venue, health] of Object.entries(report().venues)) if (health.age_ms !== null) set(health.age_ms / 1000, { venue });
  });
  counterReading<"venue">({ name: "tap_price_venue_reconnects_total", help: "Reconnections to each venue's websocket.", labelNames: ["venue"] }, (set) => {
    for (const [venue, health] of Object.entries(report().venues)) set(health.reconnects, { venue });
  });
  counterReading<"venue">({ name: "tap_price_venue_dropped_total", help: "Frames from each venue that did not parse, and messages older than one already read.", labelNames: ["venue"] }, (set) => {
    for (const [venue, health] of Object.entries(report().venues)) set(health.dropped, { venue });
  });
  counterReading<"venue">({ name: "tap_price_venue_gaps_total", help: "Times a venue's own ids showed missed messages.", labelNames: ["venue"] }, (set) => {
    for (const [venue, health] of Object.entries(report().venues)) set(health.gaps, { venue });
  });
}
