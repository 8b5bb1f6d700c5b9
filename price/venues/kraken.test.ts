import { describe, expect, test } from "bun:test";
import { kraken, parseKraken } from "./kraken.ts";
import type { VenueEvent } from "./protocol.ts";

const at = 1_700_000_000_000;

// Shaped like the examples of Kraken's "Spot WebSocket v2" ticker page, for BTC/USD.
const tickerEntry = {
  symbol: "BTC/USD",
  bid: 64210.1,
  bid_qty: 0.5,
  ask: 64210.2,
  ask_qty: 1.36144813,
  last: 64210.2,
  volume: 997.03898383,
  vwap: 63950.4,
  low: 62979.1,
  high: 64285.0,
  change: 1017.3,
  change_pct: 1.61,
  timestamp: "2022-12-25T09:30:59.123456Z",
};
const ticker = (type: "snapshot" | "update", entry: object = tickerEntry) => JSON.stringify({ channel: "ticker", type, data: [entry] });

describe("kraken subscribe and keep-alive", () => {
  test("one subscribe to the BTC/USD ticker, on every best-bid-offer change", () => {
    expect(kraken.subscribe().map((frame) => JSON.parse(frame))).toEqual([{ method: "subscribe", params: { channel: "ticker", symbol: ["BTC/USD"], event_trigger: "bbo" } }]);
  });

  test("the keep-alive is the documented application ping", () => {
    expect(JSON.parse(kraken.keepAlive.message())).toEqual({ method: "ping" });
  });

  test("the backoff keeps a reconnecting loop far below 150 connections in 10 minutes", () => {
    // Worst case: every attempt fails at once, each delay at its shortest (half the step).
    let elapsed = 0;
    let connections = 0;
    for (let attempt = 0; elapsed < 600_000; attempt++) {
      elapsed += Math.min(kraken.backoff.capMs, kraken.backoff.baseMs * 2 ** attempt) / 2;
      connections++;
    }
    expect(connections).toBeLessThan(30);
  });
});

describe("parseKraken", () => {
  test("a ticker snapshot or update is a quote with bid, ask, last and the venue's time", () => {
    const expected: VenueEvent[] = [{ kind: "quote", quote: { venue: "kraken", bid: 64210.1, ask: 64210.2, last: 64210.2, venueTs: Date.parse("2022-12-25T09:30:59.123Z"), receivedAt: at } }];
    expect(parseKraken(ticker("snapshot"), at)).toEqual(expected);
    expect(parseKraken(ticker("update"), at)).toEqual(expected);
  });

  test("a ticker without a timestamp has no venue time", () => {
    const { timestamp, ...entry } = tickerEntry;
    expect(parseKraken(ticker("update", entry), at)).toEqual([{ kind: "quote", quote: { venue: "kraken", bid: 64210.1, ask: 64210.2, last: 64210.2, receivedAt: at } }]);
  });

  test("a trade is the last price", () => {
    const trade = {
      channel: "trade",
      type: "update",
      data: [
        { symbol: "BTC/USD", side: "sell", price: 64200.0, qty: 0.01, ord_type: "market", trade_id: 4665845, timestamp: "2023-09-25T07:48:36.925000Z" },
        { symbol: "BTC/USD", side: "buy", price: 64201.5, qty: 0.02, ord_type: "limit", trade_id: 4665846, timestamp: "2023-09-25T07:48:36.925533Z" },
      ],
    };
    expect(parseKraken(JSON.stringify(trade), at)).toEqual([{ kind: "quote", quote: { venue: "kraken", last: 64201.5, venueTs: Date.parse("2023-09-25T07:48:36.925Z"), receivedAt: at } }]);
  });

  test("heartbeat, status on connect and pong are proof of life", () => {
    expect(parseKraken(JSON.stringify({ channel: "heartbeat" }), at)).toEqual([{ kind: "alive" }]);
    const status = { channel: "status", type: "update", data: [{ version: "2.0.0", system: "online", api_version: "v2", connection_id: 12393906104898154000 }] };
    expect(parseKraken(JSON.stringify(status), at)).toEqual([{ kind: "alive" }]);
    expect(parseKraken(JSON.stringify({ method: "pong", req_id: 101, time_in: "2023-09-24T14:10:23.799685Z", time_out: "2023-09-24T14:10:23.799703Z" }), at)).toEqual([{ kind: "alive" }]);
  });

  test("a ping from the server, which Kraken does not document, is answered with a pong all the same", () => {
    expect(parseKraken(JSON.stringify({ method: "ping", req_id: 7 }), at)).toEqual([{ kind: "ping", reply: JSON.stringify({ method: "pong", req_id: 7 }) }]);
  });

  test("the subscribe ack with success is a confirmation, with success false a refusal", () => {
    const ack = { method: "subscribe", result: { channel: "ticker", event_trigger: "bbo", snapshot: true, symbol: "BTC/USD" }, success: true, time_in: "2023-09-25T09:04:31.742599Z", time_out: "2023-09-25T09:04:31.742648Z" };
    expect(parseKraken(JSON.stringify(ack), at)).toEqual([{ kind: "subscribed" }]);
    const nack = { error: "Currency pair not supported", method: "subscribe", success: false, symbol: "BTC/USD", time_in: "2023-09-25T09:04:31.742599Z", time_out: "2023-09-25T09:04:31.742648Z" };
    expect(parseKraken(JSON.stringify(nack), at)).toEqual([{ kind: "refused", reason: "Currency pair not supported" }]);
  });

  test("another symbol, another channel's ack, other channels are ignored", () => {
    expect(parseKraken(ticker("update", { ...tickerEntry, symbol: "ETH/USD" }), at)).toEqual([{ kind: "ignored" }]);
    expect(parseKraken(JSON.stringify({ method: "subscribe", result: { channel: "ticker", symbol: "ETH/USD" }, success: true }), at)).toEqual([{ kind: "ignored" }]);
    expect(parseKraken(JSON.stringify({ channel: "book", type: "update", data: [] }), at)).toEqual([{ kind: "ignored" }]);
  });

  test("of several entries, ours is taken", () => {
    const text = JSON.stringify({ channel: "ticker", type: "update", data: [{ ...tickerEntry, symbol: "ETH/USD", bid: 1, ask: 2 }, tickerEntry] });
    expect(parseKraken(text, at)[0]).toMatchObject({ kind: "quote", quote: { bid: 64210.1 } });
  });

  test.each([
    ["not JSON", "{channel: ticker"],
    ["an array (a v1 frame)", JSON.stringify([0, { a: ["5525.40000", 1, "1.000"] }, "ticker", "XBT/USD"])],
    ["neither method nor channel", JSON.stringify({ event: "heartbeat" })],
    ["a bid that is a word", ticker("update", { ...tickerEntry, bid: "abc" })],
    ["an ask missing", ticker("update", { ...tickerEntry, ask: undefined })],
    ["a zero bid", ticker("update", { ...tickerEntry, bid: 0 })],
    ["a last that is null", ticker("update", { ...tickerEntry, last: null })],
    ["a timestamp that is not a time", ticker("update", { ...tickerEntry, timestamp: "now" })],
    ["data that is not a list", JSON.stringify({ channel: "ticker", type: "update", data: tickerEntry })],
    ["a trade price that is NaN text", JSON.stringify({ channel: "trade", type: "update", data: [{ symbol: "BTC/USD", price: "NaN" }] })],
    ["a subscribe response without success", JSON.stringify({ method: "subscribe", result: { channel: "ticker", symbol: "BTC/USD" } })],
  ])("%s is invalid", (_, text) => {
    const events = parseKraken(text, at);
    expect(events).toHaveLength(1);
    expect(events[0]?.kind).toBe("invalid");
  });
});
