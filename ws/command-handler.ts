import { WsCloseCode, type WsTopic } from "../common/contracts/ws.ts";
import { playerTopic } from "./bridge.ts";
import { readMessage } from "./commands.ts";
import type { Socket } from "./connection.ts";
import type { CountedOutput } from "./counted-output.ts";
import type { GridSubscriptions } from "./grid-subscriptions.ts";
import type { PriceSubscriptions } from "./price-subscriptions.ts";

/**
 * Checks an `auth` token: the player and the token's expiry (ms since the epoch), or undefined when it is not good.
 *
 * ```ts
 * const verifyToken: VerifyToken = (token) => tokens.verify(token, Date.now());
 * ```
 */
export type VerifyToken = (token: string) => { sub: string; exp: number } | undefined;

/**
 * What the command handler answers with.
 *
 * ```ts
 * const options: CommandHandlerOptions = { output, prices, grid, verifyToken };
 * ```
 */
export interface CommandHandlerOptions {
  output: CountedOutput;
  prices: PriceSubscriptions;
  /** Subscribing to `grid`: the latest grid at once, then each new one (ws/grid-subscriptions.ts). */
  grid: GridSubscriptions;
  /** Without it `auth` is refused (the API's session secret is not configured here). */
  verifyToken?: VerifyToken | undefined;
}

const TOPICS = new Set<string>(["prices", "grid"] satisfies WsTopic[]);

/**
 * Answers a client's text message (README, "Websocket protocol"): `ping`,
 * `auth`, `subscribe` and `unsubscribe`; a command of the wrong shape gets a
 * `bad_command` error, anything else is echoed.
 *
 * ```ts
 * const onText = createCommandHandler({ output, prices, grid, verifyToken });
 * onText(ws, '{"type":"ping"}'); // sends {"type":"pong","ts":…}
 * ```
 */
export function createCommandHandler({ output, prices, grid, verifyToken }: CommandHandlerOptions): (ws: Socket, text: string) => void {
  const { send, sendText, join, leave } = output;
  return (ws, text) => {
    const read = readMessage(text);
    if (read.kind === "other") {
      sendText(ws, text);
      return;
    }
    if (read.kind === "malformed") {
      send(ws, { type: "error", code: "bad_command", message: `malformed ${read.type} command` });
      return;
    }
    const command = read.command;
    switch (command.type) {
      case "ping":
        send(ws, { type: "pong", ts: Date.now() });
        return;
      case "auth": {
        const claims = verifyToken?.(command.token);
        if (!claims) {
          send(ws, { type: "error", code: "unauthorized", message: verifyToken ? "invalid or expired session token" : "this server cannot check session tokens" });
          ws.data.closedBy = "bad auth";
          ws.close(WsCloseCode.unauthorized, "unauthorized");
          return;
        }
        if (ws.data.playerId && ws.data.playerId !== claims.sub) leave(ws, playerTopic(ws.data.playerId));
        ws.data.playerId = claims.sub;
        ws.data.expiresAt = claims.exp;
        join(ws, playerTopic(claims.sub));
        send(ws, { type: "authed", user_id: claims.sub });
        return;
      }
      case "subscribe":
      case "unsubscribe": {
        if (!TOPICS.has(command.channel)) {
          send(ws, { type: "error", code: "unknown_channel", message: `no channel named ${JSON.stringify(command.channel)}`, channel: command.channel });
          return;
        }
        const channel = command.channel as WsTopic;
        if (command.type === "subscribe") {
          send(ws, { type: "subscribed", channel });
          if (channel === "prices" && !ws.data.wantsPrices) void prices.join(ws);
          if (channel === "grid") grid.join(ws);
        } else {
          if (channel === "prices") prices.leave(ws);
          else grid.leave(ws);
          send(ws, { type: "unsubscribed", channel });
        }
        return;
      }
      default: {
        const unhandled: never = command;
        throw new TypeError(`unhandled command ${JSON.stringify(unhandled)}`);
      }
    }
  };
}
