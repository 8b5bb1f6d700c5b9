// Bitfinex's own lifecycle against its double: what the shared behaviour suite does not ask of every venue.
import { afterEach, describe, expect, test } from "bun:test";
import { createLogger } from "../../common/log.ts";
import { startVenueDouble } from "../../test/support/venue-double.ts";
import { startBitfinexDouble } from "../../test/support/venues/bitfinex.ts";
import { waitFor } from "../../test/support/wait.ts";
import { createBitfinexProtocol } from "./bitfinex.ts";
import { connectVenue, type VenueConnection } from "./connection.ts";
import type { VenueProtocol, VenueQuote } from "./protocol.ts";

const log = createLogger({ component: "price", level: "silent" });

/** The documented protocol with test-sized timings (the same parse and subscribe). */
const fast = (): VenueProtocol => {
  const protocol = createBitfinexProtocol();
  const keepAlive = protocol.keepAlive;
  return { ...protocol, ...(keepAlive ? { keepAlive: { ...keepAlive, everyMs: 50 } } : {}), silenceMs: 400, backoff: { baseMs: 20, capMs: 100 } };
};

let feed: VenueConnection | undefined;
afterEach(() => feed?.close());

const connect = (url: string) => {
  const quotes: VenueQuote[] = [];
  feed = connectVenue({ protocol: fast(), url, onQuote: (quote) => quotes.push(quote), staleMs: 2000, log });
  return quotes;
};

describe("bitfinex against its double", () => {
  test("subscribes to the tBTCUSD ticker; a ticker becomes a quote of bid, ask and last", async () => {
    await using double = await startBitfinexDouble();
    const quotes = connect(double.url);
    await waitFor("subscription accepted", () => double.subscriptions.some((s) => s.accepted));
    expect(double.subscriptions.map(({ channels, symbols }) => ({ channels, symbols }))).toEqual([{ channels: ["ticker"], symbols: ["tBTCUSD"] }]);
    expect(double.quote({ bid: 7616.5, ask: 7617.5, last: 7617.1 })).toEqual({ venueTs: undefined, frames: 1 });
    await waitFor("a quote", () => quotes.length === 1);
    expect(quotes[0]).toMatchObject({ venue: "bitfinex", bid: 7616.5, ask: 7617.5, last: 7617.1 });
    expect(feed?.state()).toBe("live");
  });

  test("pings; the pongs keep a quiet connection open past the silence limit", async () => {
    await using double = await startBitfinexDouble();
    connect(double.url);
    await waitFor("subscribed", () => double.subscriptions.length === 1);
    await waitFor("pings over twice the silence limit", () => double.keepAlivesReceived >= 16);
    expect(double.connections).toBe(1);
    expect(feed?.stats().dropped).toBe(0);
  });

  test("a ticker on a channel id we did not subscribe to is neither a quote nor a fault", async () => {
    await using double = await startBitfinexDouble();
    const quotes = connect(double.url);
    await waitFor("subscribed", () => double.subscriptions.length === 1);
    double.strangerChannel();
    double.heartbeat();
    double.quote({ bid: 100, ask: 101, last: 100.5 });
    await waitFor("our quote", () => quotes.length === 1);
    expect(quotes[0]).toMatchObject({ bid: 100, ask: 101 });
    expect(feed?.stats().dropped).toBe(0);
  });

  test("info 20051 opens a new connection that subscribes again", async () => {
    await using double = await startBitfinexDouble();
    connect(double.url);
    await waitFor("subscribed", () => double.subscriptions.length === 1);
    double.requestReconnect();
    await waitFor("resubscribed on a second connection", () => double.subscriptions.some((s) => s.connection === 2 && s.accepted));
    expect(feed?.stats().reconnects).toBe(1);
  });

  test("maintenance (20060) pauses quotes on the same connection; its end (20061) subscribes anew", async () => {
    await using double = await startBitfinexDouble();
    const quotes = connect(double.url);
    await waitFor("subscribed", () => double.subscriptions.length === 1);
    double.maintenance(true);
    double.quote({ bid: 100, ask: 101 });
    // Frames are read in order: once a bad frame sent after the ticker is counted, the ticker was read and not taken.
    for (const client of double.clients) client.send("not json");
    await waitFor("the frame after the paused ticker", () => feed?.stats().dropped === 1);
    expect(quotes).toEqual([]);
    expect(double.connections).toBe(1);
    double.maintenance(false);
    await waitFor("resubscribed on a second connection", () => double.subscriptions.some((s) => s.connection === 2 && s.accepted));
    double.quote({ bid: 100, ask: 101 });
    await waitFor("quotes again", () => quotes.length === 1);
  });

  test("platform status 0 on connect is retried with backoff until the platform is back", async () => {
    await using double = await startBitfinexDouble();
    double.platformStatus = 0;
    connect(double.url);
    await waitFor("a few refused connections", () => double.connections >= 3);
    expect(feed?.stats().quotes).toBe(0);
    double.platformStatus = 1;
    const before = double.connections;
    await waitFor("subscribed on a connection after the platform is back", () => double.subscriptions.some((s) => s.connection > before && s.accepted));
  });

  test("a subscribe never answered, with pongs coming, is given up after two keep-alives", async () => {
    // Not the double: a server that answers pings and nothing else.
    await using server = await startVenueDouble({
      onMessage(client, text) {
        const { event, cid } = JSON.parse(text) as { event?: string; cid?: number };
        if (event === "ping") client.send(JSON.stringify({ event: "pong", ts: Date.now(), cid }));
      },
    });
    connect(server.url);
    await waitFor("a second connection", () => server.connections >= 2);
    expect(feed?.stats().dropped).toBe(0);
  });

  test("a refused subscribe closes and retries; the retry subscribes", async () => {
    await using double = await startBitfinexDouble();
    double.refuseNextSubscribe();
    connect(double.url);
    await waitFor("accepted on a later connection", () => double.subscriptions.some((s) => s.connection > 1 && s.accepted));
    expect(double.subscriptions[0]?.accepted).toBe(false);
  });

  test("malformed frames are dropped and counted; the feed goes on", async () => {
    await using double = await startBitfinexDouble();
    const quotes = connect(double.url);
    await waitFor("subscribed", () => double.subscriptions.length === 1);
    const bad = double.malformed();
    await waitFor("all bad frames counted", () => feed?.stats().dropped === bad);
    double.quote({ bid: 100, ask: 101 });
    await waitFor("a quote after them", () => quotes.length === 1);
  });

  test("silence with the socket open (no pongs either) reopens the connection", async () => {
    await using double = await startBitfinexDouble();
    connect(double.url);
    await waitFor("subscribed", () => double.subscriptions.length === 1);
    double.silent = true;
    await waitFor("a second connection", () => double.connections >= 2);
    double.silent = false;
    await waitFor("resubscribed", () => double.subscriptions.some((s) => s.connection >= 2 && s.accepted));
  });

  test("the double's subscribeWithinMs closes a connection that never subscribes", async () => {
    await using double = await startBitfinexDouble({ subscribeWithinMs: 100 });
    const socket = new WebSocket(double.url);
    const closed = new Promise<number>((resolve) => socket.addEventListener("close", (event) => resolve(event.code)));
    expect(await closed).toBe(1008);
    expect(double.subscriptions).toEqual([]);
  });
});
