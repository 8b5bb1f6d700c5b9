/**
 * Coinbase Exchange's public market-data feed (no key needed), product BTC-USD.
 * Follows Coinbase Developer Platform docs "Exchange WebSocket Overview" and
 * "Exchange WebSocket Channels" (docs.cdp.coinbase.com/exchange/websocket-feed/overview, /channels).
 */
import { priceField, type VenueEvent, type VenueProtocol, type VenueQuote } from "./protocol.ts";
import { rfc3339Ms } from "./rfc3339.ts";

/**
 * The product we read, in Coinbase's spelling.
 *
 * ```ts
 * JSON.stringify({ type: "subscribe", product_ids: [coinbaseProduct], channels: ["ticker", "heartbeat"] });
 * ```
 */
export const coinbaseProduct = "BTC-USD";

/** What a connection has read so far: each channel's newest `sequence` and the newest trade id. */
interface FeedState {
  /** The newest `sequence` read, per message type (`ticker`, `ticker_batch`, `match`). */
  newestSequence: Map<string, number>;
  /** The newest trade id a `ticker` or `match` carried, or a heartbeat's once reported as a gap. */
  newestTradeId: number | undefined;
}

const freshState = (): FeedState => ({ newestSequence: new Map(), newestTradeId: undefined });

/**
 * The adapter: subscribes to `ticker` (best bid/ask and the last trade on every
 * match) and `heartbeat` (once a second per product, so a quiet market is not
 * mistaken for a dead socket). `ticker_batch` and `matches` are read too when
 * served.
 *
 * One protocol object per connection: it remembers the connection's newest
 * `sequence` and trade id (forgotten on each new subscribe), because
 * Coinbase's docs warn that the public feed can drop messages and deliver
 * them out of order, and give the ids to notice it:
 * - A ticker (or match) whose `sequence` is not newer than the newest of its
 *   type already read is `outdated`: not a quote, dropped and counted.
 * - A heartbeat whose `last_trade_id` is ahead of the newest `trade_id` a
 *   ticker or match carried (once there has been one) means tickers were
 *   missed: a `gap`, counted and logged by the connection. The heartbeat's id
 *   then counts as read, so one miss is one gap, not one a second.
 *   `ticker_batch` sends every few seconds, so its trade ids lag the
 *   heartbeats' by design and are not compared.
 *
 * ```ts
 * connectVenue({ protocol: createCoinbaseProtocol(), onQuote, staleMs: 2000, log });
 * ```
 */
export function createCoinbaseProtocol(): VenueProtocol {
  let state = freshState();
  return {
    name: "coinbase",
    url: "wss://ws-feed.exchange.coinbase.com",
    // Sent at once on open: Coinbase disconnects a client that has not subscribed within 5 s.
    subscribe() {
      state = freshState();
      return [JSON.stringify({ type: "subscribe", product_ids: [coinbaseProduct], channels: ["ticker", "heartbeat"] })];
    },
    parse: (text, receivedAt) => readFrame(text, receivedAt, state),
    // Heartbeats come every second: five missed is a dead feed.
    silenceMs: 5_000,
    // Coinbase limits new connections per IP per second; a second apart at first, at most 30 s.
    backoff: { baseMs: 1_000, capMs: 30_000 },
  };
}

type Frame = Record<string, unknown>;

/**
 * Reads one Coinbase Exchange frame on its own, as the first of a connection
 * (no earlier sequence or trade id to compare with); never throws.
 *
 * ```ts
 * parseCoinbase('{"type":"heartbeat","sequence":90,"last_trade_id":20,"product_id":"BTC-USD"}', Date.now()); // [{ kind: "alive" }]
 * ```
 */
export function parseCoinbase(text: string, receivedAt: number): VenueEvent[] {
  return readFrame(text, receivedAt, freshState());
}

function readFrame(text: string, receivedAt: number, state: FeedState): VenueEvent[] {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return [{ kind: "invalid", reason: "not JSON" }];
  }
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return [{ kind: "invalid", reason: "not a JSON object" }];
  const message = frame as Frame;
  switch (message.type) {
    case "ticker":
    case "ticker_batch":
      return [inOrder(message, readTicker(message, receivedAt), state)];
    case "match":
    case "last_match":
      return [inOrder(message, readMatch(message, receivedAt), state)];
    case "heartbeat":
      return [readHeartbeat(message, state)];
    case "subscriptions":
      return [readSubscriptions(message)];
    case "error":
      return [{ kind: "refused", reason: [message.message, message.reason].filter((part) => typeof part === "string" && part).join(": ") || "error" }];
    default:
      // The docs: new message types may appear at any time and are to be ignored.
      return typeof message.type === "string" ? [{ kind: "ignored" }] : [{ kind: "invalid", reason: "no type" }];
  }
}

/** A counter the docs define as an integer; undefined when absent or anything else. */
function idField(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * A quote read from `message` stands only if its `sequence` is newer than the
 * newest of its type on this connection; then its sequence (and, from the
 * per-trade channels, its trade id) become the newest.
 */
function inOrder(message: Frame, event: VenueEvent, state: FeedState): VenueEvent {
  if (event.kind !== "quote") return event;
  // last_match is the matches channel's first message: one sequence line with match.
  const type = message.type === "last_match" ? "match" : String(message.type);
  const sequence = idField(message.sequence);
  if (sequence !== undefined) {
    const newest = state.newestSequence.get(type);
    if (newest !== undefined && sequence <= newest) return { kind: "outdated", reason: `${type} sequence ${sequence} is not newer than ${newest}` };
    state.newestSequence.set(type, sequence);
  }
  const tradeId = idField(message.trade_id);
  if (type !== "ticker_batch" && tradeId !== undefined && (state.newestTradeId === undefined || tradeId > state.newestTradeId)) state.newestTradeId = tradeId;
  return event;
}

/** Proof of life; a gap when its `last_trade_id` is ahead of the newest trade id read on this connection. */
function readHeartbeat(message: Frame, state: FeedState): VenueEvent {
  const lastTradeId = idField(message.last_trade_id);
  const newest = state.newestTradeId;
  if (message.product_id !== coinbaseProduct || lastTradeId === undefined || newest === undefined || lastTradeId <= newest) return { kind: "alive" };
  state.newestTradeId = lastTradeId;
  const sequence = idField(message.sequence);
  return {
    kind: "gap",
    reason: `heartbeat${sequence === undefined ? "" : ` (sequence ${sequence})`} last_trade_id ${lastTradeId} is ahead of the newest trade_id read, ${newest}: ${lastTradeId - newest} trade(s) without their ticker`,
  };
}

/** A field that is either absent or a price; `null` when present but not a price. */
function optionalPrice(message: Frame, key: string): number | undefined | null {
  const value = message[key];
  if (value === undefined) return undefined;
  return priceField(value) ?? null;
}

/** The frame's `time`, or null when it is there but not a time. */
function venueTime(message: Frame): number | undefined | null {
  if (message.time === undefined) return undefined;
  return rfc3339Ms(message.time) ?? null;
}

function readTicker(message: Frame, receivedAt: number): VenueEvent {
  if (message.product_id !== coinbaseProduct) return typeof message.product_id === "string" ? { kind: "ignored" } : { kind: "invalid", reason: "ticker without product_id" };
  const bid = optionalPrice(message, "best_bid");
  const ask = optionalPrice(message, "best_ask");
  const last = optionalPrice(message, "price");
  const venueTs = venueTime(message);
  if (bid === null || ask === null || last === null) return { kind: "invalid", reason: "ticker price is not a positive number" };
  if (venueTs === null) return { kind: "invalid", reason: "ticker time is not RFC 3339" };
  // ticker_batch may leave the book out; half a book is a broken frame.
  if ((bid === undefined) !== (ask === undefined)) return { kind: "invalid", reason: "ticker with one side of the book" };
  if (bid === undefined && last === undefined) return { kind: "invalid", reason: "ticker without a price" };
  return { kind: "quote", quote: quote({ bid, ask, last, venueTs }, receivedAt) };
}

function readMatch(message: Frame, receivedAt: number): VenueEvent {
  if (message.product_id !== coinbaseProduct) return typeof message.product_id === "string" ? { kind: "ignored" } : { kind: "invalid", reason: "match without product_id" };
  const last = priceField(message.price);
  const venueTs = venueTime(message);
  if (last === undefined) return { kind: "invalid", reason: "match price is not a positive number" };
  if (venueTs === null) return { kind: "invalid", reason: "match time is not RFC 3339" };
  return { kind: "quote", quote: quote({ last, venueTs }, receivedAt) };
}

/** The ack lists every channel we now have: it must hold the ticker for our product. */
function readSubscriptions(message: Frame): VenueEvent {
  const channels = Array.isArray(message.channels) ? message.channels : [];
  const ticker = channels.some((channel: unknown) => {
    if (typeof channel !== "object" || channel === null) return false;
    const { name, product_ids } = channel as Frame;
    return (name === "ticker" || name === "ticker_batch") && Array.isArray(product_ids) && product_ids.includes(coinbaseProduct);
  });
  return ticker ? { kind: "subscribed" } : { kind: "refused", reason: `subscriptions without the ${coinbaseProduct} ticker` };
}

/** A quote without the fields that are undefined (`exactOptionalPropertyTypes`). */
function quote(fields: { bid?: number | undefined; ask?: number | undefined; last?: number | undefined; venueTs?: number | undefined }, receivedAt: number): VenueQuote {
  const result: VenueQuote = { venue: "coinbase", receivedAt };
  if (fields.bid !== undefined) result.bid = fields.bid;
  if (fields.ask !== undefined) result.ask = fields.ask;
  if (fields.last !== undefined) result.last = fields.last;
  if (fields.venueTs !== undefined) result.venueTs = fields.venueTs;
  return result;
}
