// Follows Bitstamp's "Websocket API v2" page (bitstamp.net/websocket/v2): subscribe, channels, heartbeat, forced reconnection, errors.
import { priceField, type VenueEvent, type VenueProtocol, type VenueQuote } from "./protocol.ts";

/** The pair we read; Bitstamp spells markets in lower case. */
const BITSTAMP_PAIR = "btcusd";
/** Top of book: every frame is the whole visible book (up to 100 levels a side), best first. */
const BITSTAMP_BOOK_CHANNEL = `order_book_${BITSTAMP_PAIR}`;
/** One message per trade, for the last price. */
const BITSTAMP_TRADES_CHANNEL = `live_trades_${BITSTAMP_PAIR}`;

const subscribeFrame = (channel: string) => JSON.stringify({ event: "bts:subscribe", data: { channel } });

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Bitstamp's time for a frame, ms since the epoch: `microtimestamp` (µs, a
 * string) where sent, else `timestamp` (seconds, a string; some channels send
 * ms there, told apart by size). Undefined when neither reads as digits.
 *
 * ```ts
 * bitstampTime({ microtimestamp: "1767225600123456" }); // 1767225600123
 * bitstampTime({ timestamp: "1767225600" });            // 1767225600000
 * bitstampTime({});                                     // undefined
 * ```
 */
export function bitstampTime(data: Json): number | undefined {
  const { microtimestamp, timestamp } = data;
  if (typeof microtimestamp === "string" && /^\d{1,17}$/.test(microtimestamp)) return Math.floor(Number(microtimestamp) / 1000);
  if (typeof timestamp === "string" && /^\d{1,14}$/.test(timestamp)) {
    const value = Number(timestamp);
    return value >= 1e12 ? value : value * 1000;
  }
  return undefined;
}

/** The price of a book's first level (`[["77188", "0.41122"], …]`), or undefined. */
const bestOf = (levels: unknown): number | undefined => {
  if (!Array.isArray(levels)) return undefined;
  const first: unknown = levels[0];
  return Array.isArray(first) ? priceField(first[0]) : undefined;
};

const withTime = (quote: VenueQuote, data: Json): VenueQuote => {
  const venueTs = bitstampTime(data);
  return venueTs === undefined ? quote : { ...quote, venueTs };
};

function parseBook(data: unknown, receivedAt: number): VenueEvent {
  if (!isObject(data)) return { kind: "invalid", reason: "order book without data" };
  const bid = bestOf(data.bids);
  const ask = bestOf(data.asks);
  if (bid === undefined || ask === undefined) return { kind: "invalid", reason: "order book without a numeric best bid and ask" };
  // The docs warn a snapshot may briefly show bid ≥ ask and correct itself next message: no quote, not a fault.
  if (bid > ask) return { kind: "ignored" };
  return { kind: "quote", quote: withTime({ venue: "bitstamp", bid, ask, receivedAt }, data) };
}

function parseTrade(data: unknown, receivedAt: number): VenueEvent {
  if (!isObject(data)) return { kind: "invalid", reason: "trade without data" };
  // `price_str` is exact; `price` is a JSON number that may lose digits.
  const last = priceField(data.price_str) ?? (data.price_str === undefined ? priceField(data.price) : undefined);
  if (last === undefined) return { kind: "invalid", reason: "trade without a numeric price" };
  return { kind: "quote", quote: withTime({ venue: "bitstamp", last, receivedAt }, data) };
}

/**
 * Reads one Bitstamp frame (`{event, channel, data}`): `data` on
 * `order_book_btcusd` is a quote of the best bid and ask, `trade` on
 * `live_trades_btcusd` a quote of the last price, `bts:heartbeat` (the answer
 * to ours) proof of life, `bts:request_reconnect` a reconnect, `bts:error` a
 * refusal. Other pairs and channels are ignored; anything else is invalid.
 *
 * ```ts
 * parseBitstamp('{"event":"bts:heartbeat","channel":"","data":{"status":"success"}}', Date.now()); // [{ kind: "alive" }]
 * ```
 */
export function parseBitstamp(text: string, receivedAt: number): VenueEvent[] {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return [{ kind: "invalid", reason: "not JSON" }];
  }
  if (!isObject(message) || typeof message.event !== "string") return [{ kind: "invalid", reason: "not a Bitstamp event" }];
  const { event, channel, data } = message;
  switch (event) {
    case "data":
      return [channel === BITSTAMP_BOOK_CHANNEL ? parseBook(data, receivedAt) : { kind: "ignored" }];
    case "trade":
      return [channel === BITSTAMP_TRADES_CHANNEL ? parseTrade(data, receivedAt) : { kind: "ignored" }];
    case "bts:subscription_succeeded":
      return [channel === BITSTAMP_BOOK_CHANNEL || channel === BITSTAMP_TRADES_CHANNEL ? { kind: "subscribed" } : { kind: "ignored" }];
    case "bts:heartbeat":
      return [{ kind: "alive" }];
    case "bts:request_reconnect":
      return [{ kind: "reconnect", reason: "bts:request_reconnect" }];
    case "bts:error": {
      const detail = isObject(data) ? `${data.code ?? "no code"}: ${String(data.message ?? "no message")}` : "no detail";
      return [{ kind: "refused", reason: `bts:error ${detail}` }];
    }
    default:
      return [{ kind: "ignored" }];
  }
}

/**
 * Bitstamp's public websocket (`wss://ws.bitstamp.net`) for BTC/USD: the
 * order book's top for bid and ask, live trades for the last price.
 *
 * The server sends no heartbeat of its own and a book can stay quiet, so we
 * send `{"event":"bts:heartbeat"}` and take its answer as proof of life.
 * Bitstamp publishes no limit on how often one may connect (its limits are
 * 1,024 channels a connection and client frames under 512 bytes), so the
 * backoff only has to spread a storm out: 0.5–1 s first, at most 30 s.
 *
 * ```ts
 * connectVenue({ protocol: bitstamp, onQuote, staleMs: 2000, log });
 * ```
 */
export const bitstamp = {
  name: "bitstamp",
  url: "wss://ws.bitstamp.net",
  subscribe: () => [subscribeFrame(BITSTAMP_BOOK_CHANNEL), subscribeFrame(BITSTAMP_TRADES_CHANNEL)],
  parse: parseBitstamp,
  keepAlive: { everyMs: 2_000, message: () => JSON.stringify({ event: "bts:heartbeat" }) },
  silenceMs: 6_000,
  backoff: { baseMs: 1_000, capMs: 30_000 },
} satisfies VenueProtocol;
