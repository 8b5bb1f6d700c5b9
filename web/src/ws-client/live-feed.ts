import type { BetEvent } from "../../../common/contracts/bet-event.ts";
import type { Grid } from "../../../common/contracts/grid.ts";
import type { Tick } from "../../../common/contracts/price.ts";
import { subscribeCommand } from "./client-commands.ts";
import { type Connection, type ConnectionOptions, keepConnected } from "./connection.ts";
import { createPingRoundTrips, type RoundTripHandler } from "./ping-round-trips.ts";
import { dispatchServerMessage, type PriceOrigin, readServerMessage } from "./server-messages.ts";
import { createSocketAuth } from "./socket-auth.ts";

/**
 * The connection's settings and test seams, and what the page does with each thing the server sends.
 *
 * ```ts
 * const options: LiveFeedOptions = { url: "wss://example.test/ws", onState: showState, onTick: (tick) => series.add(tick) };
 * ```
 */
export interface LiveFeedOptions extends Omit<ConnectionOptions, "onOpen" | "onMessage" | "onPing" | "onDrop"> {
  /** Each price, with where it came from (empty when the message does not say, as the snapshot on connect may not). */
  onTick: (tick: Tick, origin: PriceOrigin) => void;
  /** The priced grid from the `grid` channel; when given, the feed subscribes to it on every connection. */
  onGrid?: (grid: Grid) => void;
  /** A pong: for the server clock. */
  onPong?: RoundTripHandler;
  /**
   * The session token to prove on every (re)connection (`auth`), once it is known; when given, the
   * connection also carries this player's `bet` events.
   */
  authToken?: () => Promise<string>;
  /** The server took the token: `bet` events follow. */
  onAuthed?: (userId: string) => void;
  /**
   * The server refused `token`, or it expired while the connection was open (close code 4001 or
   * 4002 follows, and the feed reconnects, proving the token `authToken` gives then).
   */
  onUnauthorized?: (token: string) => void;
  /** One of this player's bets was accepted (perhaps on another device) or settled. */
  onBet?: (event: BetEvent) => void;
}

/**
 * The page's live feed: its connection state, and the two ways the page steers it.
 *
 * ```ts
 * const feed: LiveFeed = connectLiveFeed(options);
 * ```
 */
export type LiveFeed = Connection;

/** The `error` codes that mean the session this socket proved is no longer good. */
const SESSION_REFUSED = new Set(["unauthorized", "session_expired"]);

/**
 * The page's websocket client: keeps `/ws` connected (`keepConnected`),
 * subscribes to prices (and the grid, with `onGrid`) on every connection,
 * proves the session (with `authToken`), and hands each server message to its
 * callback. Pongs go to `onPong` as round trips for the server clock.
 *
 * ```ts
 * const feed = connectLiveFeed({ url: "wss://example.test/ws", onTick: show, onState: showState });
 * feed.retryNow();
 * ```
 */
export function connectLiveFeed(options: LiveFeedOptions): LiveFeed {
  const { onTick, onGrid, onPong = () => {}, authToken, onAuthed = () => {}, onUnauthorized = () => {}, onBet = () => {}, ...connection } = options;
  const now = options.now ?? Date.now;
  const roundTrips = createPingRoundTrips(onPong);
  const auth = authToken ? createSocketAuth({ authToken, onUnauthorized }) : undefined;
  return keepConnected({
    ...connection,
    onOpen: (socket) => {
      socket.send(subscribeCommand("prices"));
      if (onGrid) socket.send(subscribeCommand("grid"));
      auth?.opened(socket);
    },
    onMessage: (data) =>
      dispatchServerMessage(readServerMessage(data), {
        price: onTick,
        grid: (grid) => onGrid?.(grid),
        bet: onBet,
        authed: onAuthed,
        error: (code) => {
          if (SESSION_REFUSED.has(code)) auth?.refused();
        },
        pong: (serverTs) => roundTrips.ponged(serverTs, now()),
      }),
    onPing: (sentAt) => roundTrips.pinged(sentAt),
    onDrop: () => roundTrips.forget(),
  });
}
