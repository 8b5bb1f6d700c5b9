import type { BetEvent } from "../../../common/contracts/bet-event.ts";
import type { CompactGrid, Grid } from "../../../common/contracts/grid.ts";
import { expandGrid } from "../../../common/grid-codec.ts";
import type { PriceMessage, Tick } from "../../../common/contracts/price.ts";

/**
 * Where a tick came from, when its message says: `mock` (simulated) or `venues` (the exchanges' index, from `venues` of them).
 *
 * ```ts
 * const origin: PriceOrigin = { source: "venues", venues: 3 };
 * ```
 */
export type PriceOrigin = Pick<PriceMessage, "source" | "venues">;

/**
 * A message from `/ws` the page acts on, checked and reduced to what the page uses.
 *
 * ```ts
 * const message: ServerMessage = { type: "pong", ts: 1_700_000_000_000 };
 * ```
 */
export type ServerMessage =
  | { type: "price"; tick: Tick; origin: PriceOrigin }
  | { type: "grid"; grid: Grid }
  | { type: "pong"; ts: number }
  | BetEvent
  | { type: "authed"; user_id: string }
  | { type: "error"; code: string };

/**
 * What the page does with each kind of server message; `dispatchServerMessage` calls one of them.
 *
 * ```ts
 * dispatchServerMessage(readServerMessage(event.data), handlers); // handlers: ServerMessageHandlers
 * ```
 */
export interface ServerMessageHandlers {
  price(tick: Tick, origin: PriceOrigin): void;
  grid(grid: Grid): void;
  pong(serverTs: number): void;
  bet(event: BetEvent): void;
  authed(userId: string): void;
  error(code: string): void;
}

/**
 * Reads one websocket frame from the server: a well-formed price, grid (sent
 * compact, handed on expanded: common/grid-codec.ts), pong, bet event,
 * `authed` or `error`. Anything else (not JSON, another type, a
 * field missing or of the wrong kind) is `undefined`, to be ignored.
 *
 * ```ts
 * readServerMessage('{"type":"pong","ts":1700000000000}'); // { type: "pong", ts: 1700000000000 }
 * readServerMessage("{bad");                               // undefined
 * ```
 */
export function readServerMessage(data: unknown): ServerMessage | undefined {
  if (typeof data !== "string") return undefined;
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof message !== "object" || message === null) return undefined;
  const m = message as Record<string, unknown>;
  if (m.type === "price" && m.symbol === "BTC-USD" && typeof m.price === "number" && m.price > 0 && Number.isInteger(m.ts)) {
    const origin: PriceOrigin = {};
    if (m.source === "mock" || m.source === "venues") origin.source = m.source;
    if (Number.isInteger(m.venues) && (m.venues as number) >= 0) origin.venues = m.venues as number;
    return { type: "price", tick: { symbol: "BTC-USD", price: m.price, ts: m.ts as number }, origin };
  }
  if (m.type === "pong" && typeof m.ts === "number") return { type: "pong", ts: m.ts };
  if (m.type === "grid") {
    const grid = readGrid(m.grid);
    return grid && { type: "grid", grid };
  }
  if (m.type === "bet" && isBetEvent(m)) return { type: "bet", bet_id: m.bet_id, status: m.status, payout: m.payout, balance: m.balance };
  if (m.type === "authed" && typeof m.user_id === "string") return { type: "authed", user_id: m.user_id };
  if (m.type === "error" && typeof m.code === "string") return { type: "error", code: m.code };
  return undefined;
}

/**
 * Hands a message read by `readServerMessage` to its handler; `undefined` (a
 * frame to ignore) reaches none.
 *
 * ```ts
 * dispatchServerMessage(readServerMessage(event.data), { price: showTick, grid: showGrid, pong, bet, authed, error });
 * ```
 */
export function dispatchServerMessage(message: ServerMessage | undefined, handlers: ServerMessageHandlers): void {
  switch (message?.type) {
    case undefined:
      return;
    case "price":
      return handlers.price(message.tick, message.origin);
    case "grid":
      return handlers.grid(message.grid);
    case "pong":
      return handlers.pong(message.ts);
    case "bet":
      return handlers.bet(message);
    case "authed":
      return handlers.authed(message.user_id);
    case "error":
      return handlers.error(message.code);
    default:
      throw new TypeError(`unknown server message ${JSON.stringify(message satisfies never)}`);
  }
}

/**
 * The grid a `grid` message carries compact (`CompactGrid`), expanded; undefined without enough of
 * its shape to draw it. The server is trusted for the rest.
 */
function readGrid(value: unknown): Grid | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const g = value as Record<string, unknown>;
  const numbers = ["ts", "column_ms", "band", "lock_ms", "first_t_start", "columns", "first_price_low", "bands"].every((name) => typeof g[name] === "number");
  if (!numbers || !Array.isArray(g.multipliers) || !Array.isArray(g.rtp_e4) || typeof g.locked !== "string" || typeof g.offered !== "string") return undefined;
  try {
    return expandGrid(value as CompactGrid);
  } catch {
    return undefined; // its arrays disagree with its columns and bands
  }
}

/** The statuses a `bet` event is taken with: accepted, and the three a settlement gives. */
const BET_STATUSES = new Set(["accepted", "won", "lost", "void"]);

/** A `bet` event's fields, each of the right kind. */
function isBetEvent(m: Record<string, unknown>): m is BetEvent {
  return typeof m.bet_id === "string" && typeof m.status === "string" && BET_STATUSES.has(m.status) && typeof m.payout === "number" && typeof m.balance === "number";
}
