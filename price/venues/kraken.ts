/**
 * Kraken's WebSocket v2 public market data (no key needed), symbol BTC/USD.
 * Follows Kraken API docs "Spot WebSocket v2": ticker, trade, heartbeat, status and ping pages
 * (docs.kraken.com/exchange/api-reference/spot-websocket-v2/ticker and siblings).
 */
import { priceField, type VenueEvent, type VenueProtocol, type VenueQuote } from "./protocol.ts";
import { rfc3339Ms } from "./rfc3339.ts";

/** The pair we read, in Kraken v2's spelling. */
const krakenSymbol = "BTC/USD";

/**
 * The adapter: subscribes to `ticker` (level 1: best bid/ask and the last
 * trade), published on every change of the best bid or offer (`event_trigger:
 * bbo`) rather than only on trades, since the index is made of mids. Kraken
 * sends a `heartbeat` about once a second when nothing else moves; we also
 * send its application `ping`. A `trade` channel is read too when served.
 *
 * ```ts
 * connectVenue({ protocol: kraken, onQuote, staleMs: 2000, log });
 * ```
 */
export const kraken = {
  name: "kraken",
  url: "wss://ws.kraken.com/v2",
  subscribe: () => [JSON.stringify({ method: "subscribe", params: { channel: "ticker", symbol: [krakenSymbol], event_trigger: "bbo" } })],
  parse: parseKraken,
  keepAlive: { everyMs: 10_000, message: () => JSON.stringify({ method: "ping" }) },
  // A heartbeat a second: five missed is a dead feed.
  silenceMs: 5_000,
  // Kraken bans an address past ~150 connections in 10 minutes. From 1–2 s
  // doubling to at most 60 s, and back to the base only after a connection
  // that stayed up 30 s, a failing loop stays under about 25 connections per 10 minutes.
  backoff: { baseMs: 2_000, capMs: 60_000 },
} satisfies VenueProtocol;

type Frame = Record<string, unknown>;

/**
 * Reads one Kraken v2 frame; never throws.
 *
 * ```ts
 * parseKraken('{"channel":"heartbeat"}', Date.now()); // [{ kind: "alive" }]
 * parseKraken('{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":87415.1,"ask":87415.2,"last":87415.2}]}', 1_767_225_600_000);
 * // [{ kind: "quote", quote: { venue: "kraken", receivedAt: 1767225600000, bid: 87415.1, ask: 87415.2, last: 87415.2 } }]
 * ```
 */
export function parseKraken(text: string, receivedAt: number): VenueEvent[] {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return [{ kind: "invalid", reason: "not JSON" }];
  }
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return [{ kind: "invalid", reason: "not a JSON object" }];
  const message = frame as Frame;
  if (typeof message.method === "string") return [readResponse(message)];
  switch (message.channel) {
    case "heartbeat":
    case "status":
      return [{ kind: "alive" }];
    case "ticker":
      return [readTicker(message, receivedAt)];
    case "trade":
      return [readTrade(message, receivedAt)];
    default:
      return typeof message.channel === "string" ? [{ kind: "ignored" }] : [{ kind: "invalid", reason: "neither a method response nor a channel message" }];
  }
}

/** A response to something we sent: the subscribe ack (or refusal), or the pong. */
function readResponse(message: Frame): VenueEvent {
  switch (message.method) {
    case "pong":
      return { kind: "alive" };
    case "ping":
      // Kraken documents only client pings; should the server ever ping, answer in kind rather than ignore it.
      return { kind: "ping", reply: JSON.stringify({ method: "pong", ...(typeof message.req_id === "number" ? { req_id: message.req_id } : {}) }) };
    case "subscribe": {
      if (message.success === false) return { kind: "refused", reason: typeof message.error === "string" ? message.error : "subscribe failed" };
      if (message.success !== true) return { kind: "invalid", reason: "subscribe response without success" };
      const result = (typeof message.result === "object" && message.result !== null ? message.result : {}) as Frame;
      return result.channel === "ticker" && result.symbol === krakenSymbol ? { kind: "subscribed" } : { kind: "ignored" };
    }
    default:
      return { kind: "ignored" };
  }
}

/** The entries of a channel message's `data` for our symbol; null when `data` is not a list of objects. */
function ourEntries(message: Frame): Frame[] | null {
  if (!Array.isArray(message.data) || !message.data.every((entry) => typeof entry === "object" && entry !== null)) return null;
  return (message.data as Frame[]).filter((entry) => entry.symbol === krakenSymbol);
}

function readTicker(message: Frame, receivedAt: number): VenueEvent {
  const entries = ourEntries(message);
  if (entries === null) return { kind: "invalid", reason: "ticker without a data list" };
  const entry = entries.at(-1);
  if (!entry) return { kind: "ignored" };
  const bid = priceField(entry.bid);
  const ask = priceField(entry.ask);
  const last = entry.last === undefined ? undefined : (priceField(entry.last) ?? null);
  if (bid === undefined || ask === undefined) return { kind: "invalid", reason: "ticker bid or ask is not a positive number" };
  if (last === null) return { kind: "invalid", reason: "ticker last is not a positive number" };
  const venueTs = entry.timestamp === undefined ? undefined : (rfc3339Ms(entry.timestamp) ?? null);
  if (venueTs === null) return { kind: "invalid", reason: "ticker timestamp is not RFC 3339" };
  return { kind: "quote", quote: quote({ bid, ask, last, venueTs }, receivedAt) };
}

function readTrade(message: Frame, receivedAt: number): VenueEvent {
  const entries = ourEntries(message);
  if (entries === null) return { kind: "invalid", reason: "trade without a data list" };
  // Trades come oldest first: the last one is the price now.
  const entry = entries.at(-1);
  if (!entry) return { kind: "ignored" };
  const last = priceField(entry.price);
  if (last === undefined) return { kind: "invalid", reason: "trade price is not a positive number" };
  const venueTs = entry.timestamp === undefined ? undefined : (rfc3339Ms(entry.timestamp) ?? null);
  if (venueTs === null) return { kind: "invalid", reason: "trade timestamp is not RFC 3339" };
  return { kind: "quote", quote: quote({ last, venueTs }, receivedAt) };
}

/** A quote without the fields that are undefined (`exactOptionalPropertyTypes`). */
function quote(fields: { bid?: number; ask?: number; last?: number | undefined; venueTs?: number | undefined }, receivedAt: number): VenueQuote {
  const result: VenueQuote = { venue: "kraken", receivedAt };
  if (fields.bid !== undefined) result.bid = fields.bid;
  if (fields.ask !== undefined) result.ask = fields.ask;
  if (fields.last !== undefined) result.last = fields.last;
  if (fields.venueTs !== undefined) result.venueTs = fields.venueTs;
  return result;
}
