/**
 * A channel of `/ws` the page subscribes to on every connection.
 *
 * ```ts
 * const channel: Channel = "grid";
 * ```
 */
export type Channel = "prices" | "grid";

/**
 * The frame that subscribes this connection to `channel`.
 *
 * ```ts
 * socket.send(subscribeCommand("prices")); // '{"type":"subscribe","channel":"prices"}'
 * ```
 */
export function subscribeCommand(channel: Channel): string {
  return JSON.stringify({ type: "subscribe", channel });
}

/**
 * The frame that proves the session `token` on this connection, after which it
 * carries the player's `bet` events.
 *
 * ```ts
 * socket.send(authCommand(await session.token())); // '{"type":"auth","token":"…"}'
 * ```
 */
export function authCommand(token: string): string {
  return JSON.stringify({ type: "auth", token });
}

/**
 * The frame that asks for a `pong`: it proves the connection alive and carries
 * the server's clock back.
 *
 * ```ts
 * socket.send(PING_COMMAND); // '{"type":"ping"}'
 * ```
 */
export const PING_COMMAND = JSON.stringify({ type: "ping" });
