import { counterReading, gaugeReading } from "../common/metrics/registry.ts";
import type { PriceBridgeStats } from "./bridge.ts";
import type { CountedOutput } from "./counted-output.ts";

/**
 * The server's counters (`server.stats()`); `GET /metrics` shows them in the
 * Prometheus text format (`registerWsMetrics`, docs/metrics.md).
 *
 * ```ts
 * const stats: WsStats = server.stats();
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
  /** `auth` messages refused: a bad or expired token. */
  auth_failures: number;
  /** Messages delivered to sockets: one per subscriber of each publish, by topic, and those sent to one socket. */
  messages_out_prices: number;
  messages_out_grid: number;
  messages_out_bet_events: number;
  messages_out_direct: number;
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
  authFailures: number;
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
  return { total: 0, rejected: 0, dead: 0, slow: 0, expired: 0, snapshotFailures: 0, authFailures: 0 };
}

/**
 * Messages delivered to sockets since start: by the topic published to (each
 * publish counts its subscribers), and those sent to one socket.
 *
 * ```ts
 * const out = newMessageCounts();
 * out.grid += server.subscriberCount("grid");
 * ```
 */
export interface MessageCounts {
  prices: number;
  grid: number;
  betEvents: number;
  direct: number;
}

/**
 * All message counts at zero.
 *
 * ```ts
 * const out = newMessageCounts();
 * ```
 */
export function newMessageCounts(): MessageCounts {
  return { prices: 0, grid: 0, betEvents: 0, direct: 0 };
}

/**
 * Counts a publish's deliveries under its topic's kind: `grid`, a player's
 * `player:<id>` (bet events), or a price shard. One comparison and an
 * addition: this runs for every publish.
 *
 * ```ts
 * countPublish(out, "grid", server.subscriberCount("grid"));
 * ```
 */
export function countPublish(out: MessageCounts, topic: string, subscribers: number): void {
  if (topic === "grid") out.grid += subscribers;
  else if (topic.startsWith("player:")) out.betEvents += subscribers;
  else out.prices += subscribers;
}

/**
 * The output with every message sent to one socket counted in `out.direct`.
 *
 * ```ts
 * const output = countSends(createCountedOutput(acks), out);
 * ```
 */
export function countSends(output: CountedOutput, out: MessageCounts): CountedOutput {
  return {
    ...output,
    sendText(ws, text) {
      out.direct++;
      output.sendText(ws, text);
    },
    send(ws, message) {
      out.direct++;
      output.send(ws, message);
    },
    sendBinary(ws, bytes) {
      out.direct++;
      output.sendBinary(ws, bytes);
    },
  };
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
 * wsStats(sockets.size, counts, out, { ...bridge.stats(), ...gridBridge.stats(), ...betBridge.stats() });
 * ```
 */
export function wsStats(open: number, counts: ConnectionCounts, out: MessageCounts, bridges: BridgeStats): WsStats {
  return {
    component: "ws",
    connections: open,
    connections_total: counts.total,
    connections_rejected: counts.rejected,
    connections_dead: counts.dead,
    connections_slow: counts.slow,
    connections_expired: counts.expired,
    snapshot_failures: counts.snapshotFailures,
    auth_failures: counts.authFailures,
    messages_out_prices: out.prices,
    messages_out_grid: out.grid,
    messages_out_bet_events: out.betEvents,
    messages_out_direct: out.direct,
    ...bridges,
    rss_bytes: process.memoryUsage.rss(),
  };
}

/**
 * Registers the ws metrics of `GET /metrics` (docs/metrics.md), all read from
 * `stats` when Prometheus scrapes: nothing is counted twice on the hot path.
 * The server started last in the process is the one shown (one per process in
 * production).
 *
 * ```ts
 * registerWsMetrics(() => server.stats());
 * ```
 */
export function registerWsMetrics(stats: () => WsStats): void {
  const count = (name: string, help: string, field: keyof WsStats) => counterReading({ name, help }, (set) => set(stats()[field] as number));
  gaugeReading({ name: "tap_ws_connections", help: "Open websockets." }, (set) => set(stats().connections));
  count("tap_ws_connections_opened_total", "Websockets opened.", "connections_total");
  count("tap_ws_connections_rejected_total", "Websocket upgrades refused: shutting down, or at WS_MAX_CONNECTIONS.", "connections_rejected");
  count("tap_ws_slow_consumers_dropped_total", "Clients closed (4003 slow_consumer) for staying more than WS_BACKPRESSURE_LIMIT_BYTES behind for WS_SLOW_CLIENT_GRACE_MS.", "connections_slow");
  count("tap_ws_dead_clients_dropped_total", "Clients dropped for not answering pings.", "connections_dead");
  count("tap_ws_sessions_expired_total", "Authenticated clients closed (4002) because their session token expired.", "connections_expired");
  count("tap_ws_auth_failures_total", "auth messages refused (4001): a bad or expired session token.", "auth_failures");
  count("tap_ws_snapshot_failures_total", "Latest-price reads for a new client that failed.", "snapshot_failures");
  counterReading<"kind">({ name: "tap_ws_messages_out_total", help: "Messages delivered to sockets, by kind: prices, grid, bet_events (one per subscriber of a publish) and direct (sent to one socket).", labelNames: ["kind"] }, (set) => {
    const now = stats();
    set(now.messages_out_prices, { kind: "prices" });
    set(now.messages_out_grid, { kind: "grid" });
    set(now.messages_out_bet_events, { kind: "bet_events" });
    set(now.messages_out_direct, { kind: "direct" });
  });
  count("tap_ws_ticks_published_total", "Ticks published to the prices topic.", "ticks_published");
  count("tap_ws_ticks_recovered_total", "Of those, ticks read back from the history after the channel missed them.", "ticks_recovered");
  count("tap_ws_ticks_dropped_total", "Messages on the price channel that were not a valid tick (malformed, or not signed).", "ticks_dropped");
  count("tap_ws_grids_published_total", "Grids published to the grid topic.", "grids_published");
  count("tap_ws_grids_dropped_total", "Grid messages that were not a valid grid.", "grids_dropped");
  count("tap_ws_bet_events_relayed_total", "Bet events relayed to players' topics.", "bet_events_relayed");
  count("tap_ws_bet_events_dropped_total", "Bet event messages that were not valid.", "bet_events_dropped");
}
