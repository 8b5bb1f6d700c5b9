/**
 * The page's websocket client for `/ws`, one concern a file:
 *
 * - `live-feed.ts`: the client the page starts (`connectLiveFeed`): subscriptions, auth, callbacks.
 * - `connection.ts`: one socket kept open, pinged, and replaced with backoff (`keepConnected`).
 * - `backoff.ts`: how long to wait before each reconnect (`reconnectDelay`).
 * - `server-messages.ts`: what the server sends, read and dispatched (`readServerMessage`).
 * - `client-commands.ts`: what the page sends (`subscribeCommand`, `authCommand`, `PING_COMMAND`).
 * - `socket-auth.ts`: the session proved on each socket (`createSocketAuth`).
 * - `ping-round-trips.ts`: pongs paired with pings, for the server clock (`createPingRoundTrips`).
 *
 * ```ts
 * import { connectLiveFeed } from "./ws-client/mod.ts";
 * const feed = connectLiveFeed({ url: "wss://example.test/ws", onTick: show, onState: showState });
 * ```
 *
 * @module
 */
export type { ConnState, SocketLike } from "./connection.ts";
export { connectLiveFeed } from "./live-feed.ts";
export type { PriceOrigin } from "./server-messages.ts";
