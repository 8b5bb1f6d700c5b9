// Coinbase's sequences and trade ids against its double: what the shared behaviour suite does not ask of every venue.
import { afterEach, describe, expect, test } from "bun:test";
import { createLogger } from "../../common/log.ts";
import { startCoinbaseDouble } from "../../test/support/venues/coinbase.ts";
import { waitFor } from "../../test/support/wait.ts";
import { createCoinbaseProtocol } from "./coinbase.ts";
import { connectVenue, type VenueConnection } from "./connection.ts";
import { startVenueFeeds, type VenueFeeds } from "./mod.ts";
import type { VenueQuote } from "./protocol.ts";

const log = createLogger({ component: "price", level: "silent" });

let feed: VenueConnection | undefined;
let feeds: VenueFeeds | undefined;
afterEach(() => {
  feed?.close();
  feeds?.close();
  feed = feeds = undefined;
});

describe("coinbase's ids against its double", () => {
  test("a ticker missed on the way shows in the next heartbeat: a gap in the stats and in /healthz's entry; the held quote stays", async () => {
    await using double = await startCoinbaseDouble();
    feeds = startVenueFeeds({ config: { venues: ["coinbase"], urls: { coinbase: double.url }, staleMs: 10_000, maxDeviationBps: 50, minVenues: 1 }, log });
    const venues = feeds;
    await waitFor("subscribed", () => double.subscriptions.some((s) => s.accepted));
    double.quote({ bid: 64_210.01, ask: 64_210.56, last: 64_210.55 });
    await waitFor("the quote indexed", () => venues.index.compute().price !== undefined);
    // In step: the heartbeat names the trade the last ticker carried.
    double.heartbeat();
    const skipped = double.missTicker();
    double.missTicker();
    double.heartbeat();
    await waitFor("the gap counted", () => venues.health().coinbase?.gaps === 1);
    expect(venues.health().coinbase).toMatchObject({ state: "live", dropped: 0, gaps: 1, reconnects: 0 });
    expect(skipped).toBeGreaterThan(0);
    // The same heartbeat again is not a second gap; the next ticker reads as before (frames arrive in order).
    double.heartbeat();
    double.quote({ bid: 64_220.01, ask: 64_220.56, last: 64_220.55 });
    await waitFor("the new quote indexed", () => venues.index.compute().price === 64_220.29);
    expect(venues.health().coinbase?.gaps).toBe(1);
    expect(venues.index.compute()).toMatchObject({ venues: 1, used: ["coinbase"] });
  });

  test("a ticker older than the last one sent is not a quote: dropped and counted", async () => {
    await using double = await startCoinbaseDouble();
    const quotes: VenueQuote[] = [];
    feed = connectVenue({ protocol: createCoinbaseProtocol(), url: double.url, onQuote: (quote) => quotes.push(quote), staleMs: 2_000, log });
    const connection = feed;
    await waitFor("subscribed", () => double.subscriptions.some((s) => s.accepted));
    double.quote({ bid: 100, ask: 101, last: 100.5 });
    double.lateTicker({ bid: 90, ask: 91, last: 90.5 });
    double.heartbeat();
    double.quote({ bid: 102, ask: 103, last: 102.5 });
    await waitFor("two quotes", () => quotes.length === 2);
    expect(quotes.map((quote) => quote.bid)).toEqual([100, 102]);
    // The late ticker's older trade id is no gap either.
    expect(connection.stats()).toMatchObject({ dropped: 1, gaps: 0, quotes: 2 });
  });

  test("the double serves every connection the same ids: two clients, both in step with the heartbeat", async () => {
    await using double = await startCoinbaseDouble();
    const open = () => connectVenue({ protocol: createCoinbaseProtocol(), url: double.url, onQuote: () => {}, staleMs: 2_000, log });
    const [first, second] = [open(), open()];
    try {
      await waitFor("both subscribed", () => double.subscriptions.filter((s) => s.accepted).length === 2);
      for (const bid of [100, 101, 102]) {
        double.quote({ bid, ask: bid + 1 });
        double.heartbeat();
      }
      double.quote({ bid: 103, ask: 104 });
      await waitFor("both quoted four times", () => first.stats().quotes === 4 && second.stats().quotes === 4);
      expect([first.stats().gaps, second.stats().gaps]).toEqual([0, 0]);
    } finally {
      first.close();
      second.close();
    }
  });
});
