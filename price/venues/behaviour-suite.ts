/**
 * The behaviour every venue adapter shows, run through `connectVenue` against
 * the venue's double: one suite, every adapter (as centrifuge runs one broker
 * suite against each broker). Silence and backoff are shortened so it takes
 * seconds; everything else is the adapter as shipped.
 *
 * ```ts
 * behavesLikeAVenue("coinbase", { protocol: createCoinbaseProtocol(), startDouble: startCoinbaseDouble, subscription: { channels: ["heartbeat", "ticker"], symbols: ["BTC-USD"] } });
 * ```
 */
import { describe, expect, test } from "bun:test";
import { createLogger } from "../../common/log.ts";
import type { DoubleQuote, StartVenueDouble, VenueDoubleApi } from "../../test/support/venues/double-api.ts";
import { waitFor } from "../../test/support/wait.ts";
import { connectVenue, type VenueConnection } from "./connection.ts";
import type { VenueProtocol, VenueQuote } from "./protocol.ts";

/**
 * What the suite needs of one venue: its protocol, a way to start its double,
 * and the subscription the double must see.
 *
 * ```ts
 * const options: VenueBehaviourOptions = { protocol: kraken, startDouble: startKrakenDouble, subscription: { channels: ["ticker"], symbols: ["BTC/USD"] } };
 * ```
 */
export interface VenueBehaviourOptions {
  protocol: VenueProtocol;
  startDouble: StartVenueDouble;
  /** What the double must read from our subscribe frames, in the venue's own names (order does not matter). */
  subscription: { channels: string[]; symbols: string[] };
}

const log = createLogger({ component: "venue-suite", level: "silent" });
/** Short enough for a test, long enough that a loaded machine does not trip it by accident. */
const FAST = { silenceMs: 300, backoff: { baseMs: 20, capMs: 100 } };

interface OpenFeed extends Disposable {
  feed: VenueConnection;
  quotes: VenueQuote[];
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** A quote with these prices arrived. */
const has = (quotes: VenueQuote[], { bid, ask }: DoubleQuote) => quotes.find((quote) => quote.bid === bid && quote.ask === ask);

/**
 * Registers the shared venue tests (`describe("<name> behaves like a venue")`)
 * for one adapter, run against its double; call it at the top of a test file.
 *
 * ```ts
 * behavesLikeAVenue("coinbase", { protocol: createCoinbaseProtocol(), startDouble: startCoinbaseDouble, subscription: { channels: ["ticker", "heartbeat"], symbols: ["BTC-USD"] } });
 * ```
 */
export function behavesLikeAVenue(name: string, { protocol, startDouble, subscription }: VenueBehaviourOptions) {
  const open = (double: VenueDoubleApi, overrides: Partial<VenueProtocol> = {}): OpenFeed => {
    const quotes: VenueQuote[] = [];
    const feed = connectVenue({ protocol: { ...protocol, ...FAST, ...overrides }, url: double.url, onQuote: (quote) => quotes.push(quote), staleMs: 1_000, log });
    return { feed, quotes, [Symbol.dispose]: () => feed.close() };
  };

  const subscribedOn = (double: VenueDoubleApi, connection: number) =>
    waitFor(`an accepted subscription on connection ${connection}`, () => double.subscriptions.some((s) => s.connection === connection && s.accepted), 3_000);

  /** Quotes until one comes through: a reconnecting client may miss the first. */
  let price = 64_000;
  const quoteArrives = async (double: VenueDoubleApi, quotes: VenueQuote[], what: string) => {
    const sent = { bid: (price += 10), ask: price + 0.5, last: price + 0.25 };
    return waitFor(what, () => has(quotes, sent) ?? void double.quote(sent), 3_000, 50);
  };

  describe(`${name} behaves like a venue`, () => {
    test("subscribes in the venue's documented shape, at once on connect", async () => {
      await using double = await startDouble();
      using _ = open(double);
      await subscribedOn(double, 1);
      // Every frame we send at open is read by the double as a subscribe, and nothing else we send is foreign to it.
      await waitFor("every subscribe frame read", () => double.subscriptions.filter((s) => s.connection === 1).length >= protocol.subscribe().length, 2_000);
      const first = double.subscriptions.filter((s) => s.connection === 1);
      expect(first.map((s) => s.frame)).toEqual(protocol.subscribe());
      expect(first.every((s) => s.accepted)).toBe(true);
      expect(sorted(first.flatMap((s) => s.channels))).toEqual(sorted(subscription.channels));
      expect(sorted(first.flatMap((s) => s.symbols))).toEqual(sorted(subscription.symbols));
      expect(double.unrecognised).toEqual([]);
    });

    test("a quote from the venue arrives normalised: venue, bid, ask, last, the venue's time, when received", async () => {
      await using double = await startDouble();
      using feed = open(double);
      await subscribedOn(double, 1);
      const before = Date.now();
      const venueTs = before - 1_234;
      const sent = double.quote({ bid: 64_210.01, ask: 64_210.56, last: 64_210.55, ts: venueTs });
      const book = await waitFor("the bid/ask quote", () => has(feed.quotes, { bid: 64_210.01, ask: 64_210.56 }), 2_000);
      expect(book.venue).toBe(protocol.name);
      expect(book.receivedAt).toBeGreaterThanOrEqual(before);
      expect(book.receivedAt).toBeLessThanOrEqual(Date.now());
      if (sent.venueTs !== undefined) expect(book.venueTs).toBe(sent.venueTs);
      const trade = await waitFor("the last trade", () => feed.quotes.find((quote) => quote.last === 64_210.55), 2_000);
      expect(trade.venue).toBe(protocol.name);
      expect(feed.feed.state()).toBe("live");
      expect(feed.feed.stats()).toMatchObject({ state: "live", reconnects: 0, dropped: 0 });
    });

    test("heartbeats alone keep a quiet connection open", async () => {
      await using double = await startDouble();
      // The protocol's own keep-alive period (seconds): only the venue's heartbeats are heard here.
      using feed = open(double);
      await subscribedOn(double, 1);
      // Three silence periods of heartbeats and nothing else.
      for (const until = Date.now() + 3 * FAST.silenceMs; Date.now() < until; ) {
        double.heartbeat();
        await Bun.sleep(FAST.silenceMs / 6);
      }
      expect(double.connections).toBe(1);
      expect(feed.feed.stats().reconnects).toBe(0);
      expect(feed.feed.stats().dropped).toBe(0);
    });

    test.if(protocol.keepAlive !== undefined)("sends the venue's keep-alive and reads its answer", async () => {
      await using double = await startDouble();
      using feed = open(double, protocol.keepAlive ? { keepAlive: { ...protocol.keepAlive, everyMs: 50 } } : {});
      await subscribedOn(double, 1);
      await waitFor("three keep-alives answered", () => double.keepAlivesReceived >= 3, 2_000);
      expect(double.unrecognised).toEqual([]);
      expect(double.connections).toBe(1);
      expect(feed.feed.stats().dropped).toBe(0);
    });

    test("answers the venue's pings, where it pings", async () => {
      await using double = await startDouble();
      if (!double.ping) return; // This venue never pings its clients.
      using feed = open(double);
      await subscribedOn(double, 1);
      double.ping();
      await waitFor("the pong", () => double.pongsReceived >= 1, 2_000);
      expect(double.unrecognised).toEqual([]);
      expect(feed.feed.stats().dropped).toBe(0);
    });

    test("silence with the socket open: reconnects, resubscribes, and quotes flow again", async () => {
      await using double = await startDouble();
      using feed = open(double);
      await subscribedOn(double, 1);
      await quoteArrives(double, feed.quotes, "a quote before the silence");
      const silentFrom = Date.now();
      double.silent = true;
      await waitFor("a new connection after the silence", () => double.connections >= 2, 3_000, 5);
      // Not before the silence has lasted its limit (less the watchdog's own tick).
      expect(Date.now() - silentFrom).toBeGreaterThanOrEqual(FAST.silenceMs - 80);
      double.silent = false;
      await quoteArrives(double, feed.quotes, "a quote after the reconnect");
      const last = double.connections;
      expect(double.subscriptions.some((s) => s.connection >= 2 && s.accepted)).toBe(true);
      expect(double.subscriptions.filter((s) => s.connection === last).map((s) => s.frame)).toEqual(protocol.subscribe());
      expect(feed.feed.stats().reconnects).toBeGreaterThanOrEqual(1);
    });

    test("an abrupt close: waits out the backoff, reconnects and resubscribes", async () => {
      await using double = await startDouble();
      const backoff = { baseMs: 200, capMs: 400 };
      using feed = open(double, { backoff });
      await subscribedOn(double, 1);
      const droppedAt = Date.now();
      double.dropAll();
      await waitFor("a new connection", () => double.connections >= 2, 3_000, 5);
      // The first step is at least half the base (half fixed, half jitter).
      expect(Date.now() - droppedAt).toBeGreaterThanOrEqual(backoff.baseMs / 2 - 5);
      await subscribedOn(double, 2);
      await quoteArrives(double, feed.quotes, "a quote on the new connection");
      expect(feed.feed.stats().reconnects).toBe(1);
    });

    test("a refused subscribe: closes, backs off, and subscribes again", async () => {
      await using double = await startDouble();
      double.refuseNextSubscribe();
      const backoff = { baseMs: 200, capMs: 400 };
      using feed = open(double, { backoff });
      await waitFor("the refusal", () => double.subscriptions.some((s) => s.connection === 1 && !s.accepted), 2_000, 5);
      const refusedAt = Date.now();
      await waitFor("a new connection", () => double.connections >= 2, 3_000, 5);
      expect(Date.now() - refusedAt).toBeGreaterThanOrEqual(backoff.baseMs / 2 - 10);
      await waitFor("an accepted subscription on a later connection", () => double.subscriptions.some((s) => s.connection >= 2 && s.accepted), 3_000);
      await quoteArrives(double, feed.quotes, "a quote once subscribed");
      expect(feed.feed.stats().reconnects).toBeGreaterThanOrEqual(1);
    });

    test("malformed frames are dropped and counted; the connection and the quotes go on", async () => {
      await using double = await startDouble();
      using feed = open(double);
      await subscribedOn(double, 1);
      const frames = double.malformed();
      expect(frames).toBeGreaterThan(0);
      await waitFor(`${frames} frames dropped`, () => feed.feed.stats().dropped >= frames, 2_000);
      await quoteArrives(double, feed.quotes, "a quote after the bad frames");
      expect(feed.feed.stats().dropped).toBe(frames);
      expect(double.connections).toBe(1);
      expect(feed.quotes.every((quote) => Number.isFinite(quote.bid ?? quote.last))).toBe(true);
    });

    test("the venue's request to reconnect, where it has one, is followed", async () => {
      await using double = await startDouble();
      if (!double.requestReconnect) return; // This venue never asks.
      using feed = open(double);
      await subscribedOn(double, 1);
      double.requestReconnect();
      await subscribedOn(double, 2);
      await quoteArrives(double, feed.quotes, "a quote on the new connection");
    });

    test("close() stops the feed for good", async () => {
      await using double = await startDouble();
      const feed = open(double);
      await subscribedOn(double, 1);
      feed.feed.close();
      await waitFor("the double sees the client go", () => double.clients.length === 0, 2_000);
      expect(feed.feed.state()).toBe("down");
      double.quote({ bid: 1, ask: 2 });
      expect(double.connections).toBe(1);
    });
  });
}
