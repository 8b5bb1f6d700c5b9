import type { PriceBridgeStats } from "./bridge.ts";

/**
 * The counters at `GET /metrics`.
 *
 * ```ts
 * const stats: WsStats = await (await fetch("http://127.0.0.1:8081/metrics")).json();
 * stats.connections; // open websockets
 * ```
 */
export interface WsStats extends PriceBridgeStats {
  grids_published: number;
  grids_dropped: number;
  bet_events_relayed: number;
  bet_events_dropped: number;
  component: "ws";
  connections: number;
  connections_total: number;
  connections_rejected: number;
  /** Clients dropped for not answering pings. */
  connections_dead: number;
  /** Clients closed for staying more than the limit behind in reading for longer than the grace. */
  connections_slow: number;
  /** Authenticated clients closed because their session token expired. */
  connections_expired: number;
  snapshot_failures: number;
  rss_bytes: number;
}

/**
 * What happened to connections since start, counted by the server's parts.
 *
 * ```ts
 * onDead(ws) { counts.dead++; ws.terminate(); }
 * ```
 */
export interface ConnectionCounts {
  total: number;
  rejected: number;
  dead: number;
  slow: number;
  expired: number;
  snapshotFailures: number;
}

/**
 * All counts at zero.
 *
 * ```ts
 * const counts = newConnectionCounts();
 * counts.rejected++;
 * ```
 */
export function newConnectionCounts(): ConnectionCounts {
  return { total: 0, rejected: 0, dead: 0, slow: 0, expired: 0, snapshotFailures: 0 };
}

/**
 * The bridges' own counters, merged into the stats as they are.
 *
 * ```ts
 * const bridges: BridgeStats = { ...bridge.stats(), ...gridBridge.stats(), ...betBridge.stats() };
 * ```
 */
export type BridgeStats = PriceBridgeStats & Pick<WsStats, "grids_published" | "grids_dropped" | "bet_events_relayed" | "bet_events_dropped">;

/**
 * The stats as `GET /metrics` shows them.
 *
 * ```ts
 * wsStats(sockets.size, counts, { ...bridge.stats(), ...gridBridge.stats(), ...betBridge.stats() });
 * ```
 */
export function wsStats(open: number, counts: ConnectionCounts, bridges: BridgeStats): WsStats {
  return {
    component: "ws",
    connections: open,
    connections_total: counts.total,
    connections_rejected: counts.rejected,
    connections_dead: counts.dead,
    connections_slow: counts.slow,
    connections_expired: counts.expired,
    snapshot_failures: counts.snapshotFailures,
    ...bridges,
    rss_bytes: process.memoryUsage.rss(),
  };
}
