import type { ServerWebSocket } from "bun";
import { fullBucket, type TokenBucket } from "../common/token-bucket.ts";
import type { Liveness } from "./heartbeat.ts";
import type { Subscriber } from "./sharded-topic.ts";
import { type Delivery, newDelivery } from "./unacked-bytes.ts";

/**
 * What the server keeps on each connection: one object, with its message
 * budget (a token bucket), liveness and byte counts inline (thousands of these
 * are live).
 *
 * ```ts
 * server.upgrade(request, { data: newConnection(request, limits.maxMessagesPerS, Date.now()) });
 * // later, in a handler: ws.data.playerId, ws.data.closedBy, …
 * ```
 */
export interface Connection extends Liveness, TokenBucket, Delivery {
  id: string;
  forwardedFor: string | null;
  openedAt: number;
  /** Whether the client wants ticks; bumped `joins` stop a late snapshot from undoing an unsubscribe. */
  wantsPrices: boolean;
  joins: number;
  /** Why the server closed the connection, for the close log. */
  closedBy: string | null;
  /** The player proven by `auth`, whose bet events this connection receives. */
  playerId?: string;
  /** When the token proven by `auth` expires (ms since the epoch); infinite before any `auth`. */
  expiresAt: number;
  /** Whether the client wants the grid (see ws/grid-subscriptions.ts). */
  wantsGrid: boolean;
  /** This connection as the sharded price and grid topics see it: joining a shard goes through the byte counts. */
  topicMember: Subscriber | null;
}

/**
 * A server-side websocket with its `Connection`.
 *
 * ```ts
 * const playerOf = (ws: Socket) => ws.data.playerId;
 * ```
 */
export type Socket = ServerWebSocket<Connection>;

/**
 * `readyState` of a socket that can still send and receive (the standard `WebSocket.OPEN`).
 *
 * ```ts
 * if (ws.readyState !== OPEN) return; // closing or closed: nothing more is sent
 * ```
 */
export const OPEN = 1;

/**
 * A new connection's state, made at upgrade from the request: its id, the
 * address a proxy says it came from, and a full message budget.
 *
 * ```ts
 * if (server.upgrade(request, { data: newConnection(request, limits.maxMessagesPerS, Date.now()) })) return undefined;
 * ```
 */
export function newConnection(request: Request, maxMessagesPerS: number, now: number): Connection {
  return {
    id: Bun.randomUUIDv7(),
    forwardedFor: request.headers.get("x-forwarded-for") ?? request.headers.get("x-real-ip"),
    openedAt: now,
    alive: true,
    ...fullBucket(maxMessagesPerS, now),
    wantsPrices: false,
    joins: 0,
    closedBy: null,
    expiresAt: Number.POSITIVE_INFINITY,
    wantsGrid: false,
    topicMember: null,
    ...newDelivery(),
  };
}
