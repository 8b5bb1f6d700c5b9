/**
 * What every per-venue double offers (`test/support/venues/<venue>.ts`), so one
 * behaviour suite (`price/venues/behaviour-suite.ts`) and the end-to-end tests
 * drive any venue the same way. Each double builds on `startVenueDouble`
 * (test/support/venue-double.ts) and speaks its venue's documented protocol:
 * it reads the client's subscribe frames as the venue would, answers them
 * with the venue's own ack (or its refusal), and serves prices, heartbeats and
 * pings in the shapes of the venue docs' examples.
 *
 * ```ts
 * export async function startCoinbaseDouble(options: VenueDoubleApiOptions = {}): Promise<VenueDoubleApi> { … }
 * await using double = await startCoinbaseDouble();
 * const feed = connectVenue({ protocol: createCoinbaseProtocol(), url: double.url, … });
 * await waitFor("subscribed", () => double.subscriptions.some((s) => s.accepted));
 * double.quote({ bid: 100, ask: 101, last: 100.5 });
 * ```
 */
import type { DoubleClient } from "../venue-double.ts";

export interface VenueDoubleApiOptions {
  /** Sends the venue's heartbeat to every subscribed client this often (off by default: tests call `heartbeat()`). */
  heartbeatEveryMs?: number;
  /**
   * Closes a connection that has not subscribed within this long, as a venue
   * that requires an early subscribe does (Coinbase: 5 s). Off when undefined.
   */
  subscribeWithinMs?: number;
}

/** One subscribe request as the double read it from a client. */
export interface DoubleSubscription {
  /** Which connection sent it: 1 for the first the double accepted, 2 for the next, … */
  connection: number;
  /** The channels asked for, in the venue's own names (e.g. `ticker`, `heartbeat`, `live_trades_btcusd`). */
  channels: string[];
  /** The products or symbols asked for, in the venue's own spelling (`BTC-USD`, `BTC/USD`, `btcusd`, `tBTCUSD`). */
  symbols: string[];
  /** False when the double refused it (`refuseNextSubscribe`). */
  accepted: boolean;
  /** The frame as received. */
  frame: string;
}

/** A price the double serves; each field in USD. */
export interface DoubleQuote {
  bid: number;
  ask: number;
  /** The last trade's price; venues that carry it on another channel get a second frame. */
  last?: number;
  /** The venue's time for it, ms since the epoch (default: now). */
  ts?: number;
}

/** What `quote()` put on the wire, for the suite to compare with the normalised `VenueQuote`. */
export interface DoubleQuoteSent {
  /** The venue timestamp the frames carry, ms since the epoch; undefined when the venue's message has none. */
  venueTs: number | undefined;
  /** How many frames were sent to each subscribed client (e.g. Bitstamp: order book + trade = 2). */
  frames: number;
}

export interface VenueDoubleApi {
  /** `ws://127.0.0.1:<port>`: hand it to `connectVenue({ url })`. */
  readonly url: string;
  /** The clients connected now. */
  readonly clients: DoubleClient[];
  /** Connections accepted so far (a reconnect makes it grow). */
  readonly connections: number;
  /** Every subscribe request so far, in order, accepted or refused. */
  readonly subscriptions: DoubleSubscription[];
  /** Client frames the double could not read as any request of the venue's protocol (a wrong subscribe shape lands here). */
  readonly unrecognised: string[];

  /** Sends the venue's top-of-book (and last trade) to every subscribed client, shaped like the venue docs' examples. */
  quote(quote: DoubleQuote): DoubleQuoteSent;
  /** Sends the venue's heartbeat (proof of life, no price) to every subscribed client. */
  heartbeat(): void;
  /** Sends frames the adapter must drop and count (not JSON, a price that is not a number, …); returns how many per client. */
  malformed(): number;
  /** The next subscribe request is answered with the venue's documented refusal (error / `success: false`). */
  refuseNextSubscribe(): void;

  /** Keep-alive pings received from clients and answered (venues where we ping: Kraken, Bitfinex); 0 elsewhere. */
  readonly keepAlivesReceived: number;
  /** Where the venue pings its clients: sends its ping to every client. Absent for venues that never ping. */
  ping?(): void;
  /** Replies to `ping()` received from clients. */
  readonly pongsReceived: number;
  /** Where the venue can ask clients to reconnect (Bitstamp's `bts:request_reconnect`): asks every client. */
  requestReconnect?(): void;

  /** While true, nothing is sent and the sockets stay open (silence). */
  silent: boolean;
  /** Closes every client's socket at once, with no close frame (an abrupt close). */
  dropAll(): void;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** How a venue's double module starts one, e.g. `startCoinbaseDouble`. */
export type StartVenueDouble = (options?: VenueDoubleApiOptions) => Promise<VenueDoubleApi>;
