import { WS_MAX_MESSAGE_BYTES } from "../common/contracts/ws.ts";

/**
 * The websocket server's limits; `defaultLimits` fills in what a caller leaves out.
 *
 * ```ts
 * await startWsServer({ port: 0, bus, latestTick, log, limits: { maxConnections: 100 } satisfies Partial<WsLimits> });
 * ```
 */
export interface WsLimits {
  /** A peer silent (no pong, no message) for this long is dropped; pings go out every half of it. */
  idleTimeoutS: number;
  /**
   * Bytes sent to one client and not yet read by it, wherever they sit (ws's queue, the kernel's
   * buffers, nginx): a client that stays above it for `slowClientGraceMs` is closed (ws/unacked-bytes.ts).
   * Also Bun's own limit on ws's queue, past which a client is closed at once.
   */
  backpressureLimitBytes: number;
  /** How long a client may stay more than `backpressureLimitBytes` behind before it is closed. */
  slowClientGraceMs: number;
  /** How often every connection is looked at: how far behind it is, whether its session has expired. */
  sweepMs: number;
  /** Open websockets; past it an upgrade is answered 503. */
  maxConnections: number;
  /** Messages per second per client (and the burst allowed). */
  maxMessagesPerS: number;
  /** Largest message a client may send; a larger one closes the connection with 1009. */
  maxMessageBytes: number;
  /** How long a new client waits for the stored price before it is subscribed without one. */
  snapshotTimeoutMs: number;
  /** Price subscribers are split over this many topics, published one per event-loop turn (see sharded-topic.ts). */
  priceShards: number;
  /** A grid's shards go out over this long (0: one per event-loop turn, as a tick's). */
  gridSpreadMs: number;
}

/**
 * The limits production runs with unless configured otherwise (ws/config.ts).
 *
 * ```ts
 * const limits: WsLimits = { ...defaultLimits, maxConnections: 100 };
 * ```
 */
export const defaultLimits: WsLimits = {
  idleTimeoutS: 60,
  backpressureLimitBytes: 128 * 1024,
  slowClientGraceMs: 3000,
  sweepMs: 500,
  maxConnections: 10_000,
  maxMessagesPerS: 50,
  maxMessageBytes: WS_MAX_MESSAGE_BYTES,
  snapshotTimeoutMs: 1000,
  priceShards: 10,
  gridSpreadMs: 0,
};
