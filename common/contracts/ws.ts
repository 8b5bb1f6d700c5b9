import { Type as t, type Static } from "@sinclair/typebox";
import { BetEvent } from "./bet-event.ts";
import { GridMessage } from "./grid.ts";
import { PriceMessage } from "./price.ts";

/**
 * The websocket protocol between the `ws` service and its clients, at `/ws`.
 *
 * On connect a client is subscribed to `prices` and first receives the latest
 * price, then one `price` message per tick. A client that subscribes to `grid`
 * gets the latest priced grid at once, then each new one (about once a second). A text message that is not one of
 * the commands below comes back unchanged (echo).
 */

/**
 * The topics a client may subscribe to.
 *
 * ```ts
 * const topic: WsTopic = "grid";
 * ```
 */
export const WsTopic = t.Union([t.Literal("prices"), t.Literal("grid")]);
export type WsTopic = Static<typeof WsTopic>;

// Client → server.

/**
 * Asks for a `pong` with the server's time (a round-trip and clock check).
 *
 * ```json
 * { "type": "ping" }
 * ```
 */
export const PingCommand = t.Object({ type: t.Literal("ping") }, { examples: [{ type: "ping" }] });
export type PingCommand = Static<typeof PingCommand>;

/**
 * Starts the messages of a topic. `channel` is a string here so that an unknown
 * one gets an `unknown_channel` error, not an echo.
 *
 * ```json
 * { "type": "subscribe", "channel": "grid" }
 * ```
 */
export const SubscribeCommand = t.Object({ type: t.Literal("subscribe"), channel: t.String({ maxLength: 64 }) }, { examples: [{ type: "subscribe", channel: "grid" }] });
export type SubscribeCommand = Static<typeof SubscribeCommand>;

/**
 * Stops the messages of a topic.
 *
 * ```json
 * { "type": "unsubscribe", "channel": "prices" }
 * ```
 */
export const UnsubscribeCommand = t.Object({ type: t.Literal("unsubscribe"), channel: t.String({ maxLength: 64 }) }, { examples: [{ type: "unsubscribe", channel: "prices" }] });
export type UnsubscribeCommand = Static<typeof UnsubscribeCommand>;

/**
 * Proves which player this connection belongs to (the session token from POST /api/session).
 *
 * ```json
 * { "type": "auth", "token": "eyJzdWIiOiJwXzEyMyJ9.…" }
 * ```
 */
export const AuthCommand = t.Object({ type: t.Literal("auth"), token: t.String({ maxLength: 512 }) }, { examples: [{ type: "auth", token: "eyJzdWIiOiJwXzEyMyIsImV4cCI6MTc2NzMxMjAwMDAwMH0.c2lnbmF0dXJl" }] });
export type AuthCommand = Static<typeof AuthCommand>;

/**
 * Every command a client may send.
 *
 * ```ts
 * const command: ClientCommand = { type: "subscribe", channel: "grid" };
 * ```
 */
export const ClientCommand = t.Union([PingCommand, SubscribeCommand, UnsubscribeCommand, AuthCommand]);
export type ClientCommand = Static<typeof ClientCommand>;

// Server → client.

export { GridMessage, PriceMessage };

/**
 * The answer to `ping`.
 *
 * ```json
 * { "type": "pong", "ts": 1767225600000 }
 * ```
 */
export const PongMessage = t.Object({ type: t.Literal("pong"), ts: t.Integer({ description: "server time, ms since the epoch" }) }, { examples: [{ type: "pong", ts: 1_767_225_600_000 }] });
export type PongMessage = Static<typeof PongMessage>;

/**
 * The answer to a good `subscribe`.
 *
 * ```json
 * { "type": "subscribed", "channel": "grid" }
 * ```
 */
export const SubscribedMessage = t.Object({ type: t.Literal("subscribed"), channel: WsTopic }, { examples: [{ type: "subscribed", channel: "grid" }] });
export type SubscribedMessage = Static<typeof SubscribedMessage>;

/**
 * The answer to a good `unsubscribe`.
 *
 * ```json
 * { "type": "unsubscribed", "channel": "grid" }
 * ```
 */
export const UnsubscribedMessage = t.Object({ type: t.Literal("unsubscribed"), channel: WsTopic }, { examples: [{ type: "unsubscribed", channel: "grid" }] });
export type UnsubscribedMessage = Static<typeof UnsubscribedMessage>;

/**
 * The answer to a good `auth`: from now on the connection gets this player's `bet` events.
 *
 * ```json
 * { "type": "authed", "user_id": "p_123" }
 * ```
 */
export const AuthedMessage = t.Object({ type: t.Literal("authed"), user_id: t.String() }, { examples: [{ type: "authed", user_id: "p_0192f0b12c3d7e4f8a9b0c1d2e3f4a5b" }] });
export type AuthedMessage = Static<typeof AuthedMessage>;

/**
 * Why the server refused a command or is about to close the connection.
 *
 * ```ts
 * const code: WsErrorCode = "unknown_channel";
 * ```
 */
export const WsErrorCode = t.Union([
  /** `auth` with a bad or expired token; followed by close code 4001. */
  t.Literal("unauthorized"),
  /** subscribe/unsubscribe named a topic that does not exist; the connection stays open. */
  t.Literal("unknown_channel"),
  /** A known command type with a bad shape; the connection stays open. */
  t.Literal("bad_command"),
  /** Too many messages per second; followed by close code 1008. */
  t.Literal("rate_limited"),
  /** The session token proven by `auth` has expired; followed by close code 4002. Reconnect and `auth` with a new session. */
  t.Literal("session_expired"),
  /** The client stayed too far behind in reading what it was sent; followed by close code 4003. */
  t.Literal("slow_consumer"),
]);
export type WsErrorCode = Static<typeof WsErrorCode>;

/**
 * An error sent to a client; `channel` names the topic a refused subscribe/unsubscribe asked for.
 *
 * ```json
 * { "type": "error", "code": "unknown_channel", "message": "no channel named \"trades\"", "channel": "trades" }
 * ```
 */
export const WsErrorMessage = t.Object(
  {
    type: t.Literal("error"),
    code: WsErrorCode,
    message: t.String(),
    channel: t.Optional(t.String()),
  },
  {
    examples: [
      { type: "error", code: "unknown_channel", message: 'no channel named "trades"', channel: "trades" },
      { type: "error", code: "slow_consumer", message: "8400000 bytes sent and not read for over 5000 ms" },
    ],
  },
);
export type WsErrorMessage = Static<typeof WsErrorMessage>;

/**
 * Every message the server sends.
 *
 * ```ts
 * const message: ServerMessage = { type: "pong", ts: Date.now() };
 * ```
 */
export const ServerMessage = t.Union([PriceMessage, GridMessage, BetEvent, AuthedMessage, PongMessage, SubscribedMessage, UnsubscribedMessage, WsErrorMessage]);
export type ServerMessage = Static<typeof ServerMessage>;

/**
 * The close codes the server uses (RFC 6455 §7.4.1).
 *
 * ```ts
 * ws.close(WsCloseCode.unauthorized, "unauthorized");
 * ```
 */
export const WsCloseCode = {
  /** The server is shutting down or restarting: reconnect. */
  goingAway: 1001,
  /** The client broke a limit (message rate). */
  policyViolation: 1008,
  /** A message over the size limit (64 KiB). */
  messageTooBig: 1009,
  /** `auth` with a bad or expired session token. */
  unauthorized: 4001,
  /** The token an authenticated connection proved has expired since (after an `error` with `session_expired`). */
  sessionExpired: 4002,
  /**
   * The client stayed more than the server's limit behind in reading (bytes sent that it has not
   * read) for longer than a few seconds (after an `error` with `slow_consumer`): reconnect.
   */
  slowConsumer: 4003,
} as const;

/**
 * The largest message a client may send, in bytes (64 KiB); a larger one closes with `WsCloseCode.messageTooBig`.
 *
 * ```ts
 * Bun.serve({ fetch, websocket: { message, maxPayloadLength: WS_MAX_MESSAGE_BYTES } });
 * ```
 */
export const WS_MAX_MESSAGE_BYTES = 64 * 1024;
