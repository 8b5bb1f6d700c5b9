// Bitstamp's own lifecycle against its double: what the shared behaviour suite does not ask of every venue.
import { afterEach, describe, expect, test } from "bun:test";
import { createLogger } from "../../common/log.ts";
import { startBitstampDouble } from "../../test/support/venues/bitstamp.ts";
import { waitFor } from "../../test/support/wait.ts";
import { bitstamp } from "./bitstamp.ts";
import { connectVenue, type VenueConnection } from "./connection.ts";
import type { VenueProtocol, VenueQuote } from "./protocol.ts";

const log = createLogger({ component: "price", level: "silent" });
// The documented protocol with test-sized timings.
const fast: VenueProtocol = { ...bitstamp, keepAlive: { ...bitstamp.keepAlive, everyMs: 50 }, silenceMs: 400, backoff: { baseMs: 20, capMs: 100 } };

let feed: VenueConnection | undefined;
afterEach(() => feed?.close());

const connect = (url: string, protocol: VenueProtocol = fast) => {
  const quotes: VenueQuote[] = [];
  feed = connectVenue({ protocol, url, onQuote: (quote) => quotes.push(quote), staleMs: 2000, log });
  return quotes;
};

describe("bitstamp against its double", () => {
  test("subscribes to both channels as documented; a book and a trade become quotes stamped with the venue's time", async () => {
    await using double = await startBitstampDouble();
    const quotes = connect(double.url);
    await waitFor("both subscriptions accepted", () => double.subscriptions.filter((s) => s.accepted).length === 2);
    expect(double.subscriptions.map(({ channels, symbols }) => ({ channels, symbols }))).toEqual([
      { channels: ["order_book_btcusd"], symbols: ["btcusd"] },
      { channels: ["live_trades_btcusd"], symbols: ["btcusd"] },
    ]);
    expect(double.unrecognised).toEqual([]);
    const sent = double.quote({ bid: 77188, ask: 77189, last: 77188.5, ts: 1_789_457_617_906 });
    expect(sent).toEqual({ venueTs: 1_789_457_617_906, frames: 2 });
    await waitFor("two quotes", () => quotes.length === 2);
    expect(quotes.map(({ bid, ask, last, venueTs }) => ({ bid, ask, last, venueTs }))).toEqual([
      { bid: 77188, ask: 77189, last: undefined, venueTs: 1_789_457_617_906 },
      { bid: undefined, ask: undefined, last: 77188.5, venueTs: 1_789_457_617_906 },
    ]);
    expect(feed?.state()).toBe("live");
  });

  test("sends bts:heartbeat; its answers keep a quiet connection open past the silence limit", async () => {
    await using double = await startBitstampDouble();
    connect(double.url);
    await waitFor("subscribed", () => double.subscriptions.length === 2);
    await waitFor("heartbeats over twice the silence limit", () => double.keepAlivesReceived >= Math.ceil((2 * fast.silenceMs) / 50));
    expect(double.connections).toBe(1);
    expect(feed?.stats().dropped).toBe(0);
  });

  test("bts:request_reconnect opens a new connection that subscribes again", async () => {
    await using double = await startBitstampDouble();
    connect(double.url);
    await waitFor("subscribed", () => double.subscriptions.length === 2);
    double.requestReconnect();
    await waitFor("resubscribed on a second connection", () => double.subscriptions.filter((s) => s.connection === 2 && s.accepted).length === 2);
    expect(feed?.stats().reconnects).toBe(1);
  });

  test("a refused subscribe (bts:error) closes and retries; the retry subscribes", async () => {
    await using double = await startBitstampDouble();
    double.refuseNextSubscribe();
    connect(double.url);
    await waitFor("both accepted on a later connection", () => double.subscriptions.filter((s) => s.connection > 1 && s.accepted).length === 2);
    expect(double.subscriptions[0]?.accepted).toBe(false);
  });

  test("malformed frames are dropped and counted; the feed goes on", async () => {
    await using double = await startBitstampDouble();
    const quotes = connect(double.url);
    await waitFor("subscribed", () => double.subscriptions.length === 2);
    const bad = double.malformed();
    await waitFor("all bad frames counted", () => feed?.stats().dropped === bad);
    double.quote({ bid: 100, ask: 101 });
    await waitFor("a quote after them", () => quotes.length === 1);
    expect(double.connections).toBe(1);
  });

  test("silence with the socket open (no heartbeat answers either) reopens the connection", async () => {
    await using double = await startBitstampDouble();
    connect(double.url);
    await waitFor("subscribed", () => double.subscriptions.length === 2);
    double.silent = true;
    await waitFor("a second connection", () => double.connections >= 2);
    double.silent = false;
    await waitFor("resubscribed", () => double.subscriptions.some((s) => s.connection >= 2 && s.accepted));
  });

  test("the double's subscribeWithinMs closes a connection that never subscribes", async () => {
    await using double = await startBitstampDouble({ subscribeWithinMs: 100 });
    const socket = new WebSocket(double.url);
    const closed = new Promise<number>((resolve) => socket.addEventListener("close", (event) => resolve(event.code)));
    expect(await closed).toBe(1008);
    expect(double.subscriptions).toEqual([]);
  });
});
