/**
 * What every venue adapter is: the venue's documented public market-data
 * protocol, as pure functions over text frames. The connection's lifecycle
 * (open, subscribe, silence, reconnect with backoff) is the same for every
 * venue and lives in `connection.ts`; an adapter only says what to send and
 * what a frame means, so each one is tested against its double and the shared
 * behaviour suite without a network.
 */

/**
 * The venues the price service knows; `PRICE_VENUES` takes these names.
 *
 * ```ts
 * venueNames.includes("kraken"); // true
 * ```
 */
export const venueNames = ["coinbase", "kraken", "bitstamp", "bitfinex"] as const;
/**
 * One of `venueNames`.
 *
 * ```ts
 * const name: VenueName = "bitstamp";
 * ```
 */
export type VenueName = (typeof venueNames)[number];

/**
 * One normalised top-of-book or trade observation from a venue, in USD.
 *
 * ```ts
 * const quote: VenueQuote = { venue: "kraken", bid: 64_210.5, ask: 64_211, receivedAt: 1_700_000_000_000 };
 * ```
 */
export interface VenueQuote {
  venue: VenueName;
  /** Best bid and ask, when the venue sent the book's top. */
  bid?: number;
  ask?: number;
  /** The last trade's price, when the venue sent one. */
  last?: number;
  /** The venue's own time for it, ms since the epoch, when it sent one. */
  venueTs?: number;
  /** When we received the frame, ms since the epoch. */
  receivedAt: number;
}

/**
 * What one text frame from a venue means.
 *
 * ```ts
 * const event: VenueEvent = { kind: "ping", reply: '{"event":"pong"}' };
 * ```
 */
export type VenueEvent =
  /** A price observation. */
  | { kind: "quote"; quote: VenueQuote }
  /** Proof of life without a price (a heartbeat, a pong). */
  | { kind: "alive" }
  /** The venue asked for a reply (its ping): send `reply`. */
  | { kind: "ping"; reply: string }
  /** The venue confirmed the subscription. */
  | { kind: "subscribed" }
  /** The venue asks us to reconnect (e.g. Bitstamp's `bts:request_reconnect`). */
  | { kind: "reconnect"; reason: string }
  /** The venue refused something (a subscribe): the connection is closed and retried with backoff. */
  | { kind: "refused"; reason: string }
  /**
   * The venue's own ids show that messages were missed on this connection
   * (Coinbase: a heartbeat's `last_trade_id` ahead of the last ticker's
   * `trade_id`): counted as a gap and logged; `reason` names the ids.
   */
  | { kind: "gap"; reason: string }
  /** A message older than one already read (its sequence is not newer): not used, dropped and counted. */
  | { kind: "outdated"; reason: string }
  /** A valid frame we do not use (a status line, another channel). */
  | { kind: "ignored" }
  /** Not a frame of this protocol, or a price that does not parse: dropped and counted. */
  | { kind: "invalid"; reason: string };

/**
 * A venue's protocol and its published limits.
 *
 * ```ts
 * const protocol: VenueProtocol = protocolFor("kraken");
 * protocol.parse('{"channel":"heartbeat"}', Date.now());
 * ```
 */
export interface VenueProtocol {
  name: VenueName;
  /** The documented public websocket URL (`PRICE_VENUE_URL_<NAME>` overrides it). */
  url: string;
  /** The frames to send once the socket is open, in order. */
  subscribe(): string[];
  /** Reads one text frame received at `receivedAt`; never throws. */
  parse(text: string, receivedAt: number): VenueEvent[];
  /** A frame we send every `everyMs` to keep the connection alive, where the venue asks for one. */
  keepAlive?: { everyMs: number; message(now: number): string };
  /** With no frame at all for this long the connection is taken as dead and reopened. */
  silenceMs: number;
  /** Reconnect delays: `baseMs × 2^attempt`, with jitter, at most `capMs` (inside the venue's published limits). */
  backoff: { baseMs: number; capMs: number };
}

/**
 * A quote's mid: (bid + ask) / 2 when both are there and sane, else the last trade; undefined when neither.
 *
 * ```ts
 * midOf({ venue: "kraken", bid: 100, ask: 102, receivedAt: 0 }); // 101
 * midOf({ venue: "kraken", bid: 102, ask: 100, last: 101.5, receivedAt: 0 }); // 101.5 (a crossed book is not sane)
 * ```
 */
export function midOf(quote: VenueQuote): number | undefined {
  const { bid, ask, last } = quote;
  if (bid !== undefined && ask !== undefined && bid > 0 && ask >= bid) return (bid + ask) / 2;
  return last !== undefined && last > 0 ? last : undefined;
}

/**
 * A positive finite price from a venue's field (they send strings or numbers); undefined otherwise.
 *
 * ```ts
 * priceField("64210.50"); // 64210.5
 * priceField(64210.5); // 64210.5
 * priceField("1e3"); // undefined
 * ```
 */
export function priceField(value: unknown): number | undefined {
  const number = typeof value === "string" ? (/^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN) : typeof value === "number" ? value : Number.NaN;
  return Number.isFinite(number) && number > 0 ? number : undefined;
}
