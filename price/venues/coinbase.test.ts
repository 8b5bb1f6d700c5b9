import { describe, expect, test } from "bun:test";
import { createCoinbaseProtocol, parseCoinbase } from "./coinbase.ts";
import type { VenueEvent } from "./protocol.ts";

const at = 1_700_000_000_000;

// Shaped like the ticker example of Coinbase's "Exchange WebSocket Channels" page, for BTC-USD.
const ticker = {
  type: "ticker",
  sequence: 37475248783,
  product_id: "BTC-USD",
  price: "64210.55",
  open_24h: "63001.10",
  volume_24h: "11532.79269678",
  low_24h: "62800.52",
  high_24h: "64500.8",
  volume_30d: "388783.60117027",
  best_bid: "64210.01",
  best_bid_size: "0.46688654",
  best_ask: "64210.56",
  best_ask_size: "1.56637040",
  side: "buy",
  time: "2022-10-19T23:28:22.061769Z",
  trade_id: 370843401,
  last_size: "0.0396987",
};

describe("coinbase subscribe", () => {
  test("one subscribe to the BTC-USD ticker and heartbeat channels", () => {
    expect(createCoinbaseProtocol().subscribe().map((frame) => JSON.parse(frame))).toEqual([{ type: "subscribe", product_ids: ["BTC-USD"], channels: ["ticker", "heartbeat"] }]);
  });
});

describe("parseCoinbase", () => {
  test("a ticker is a quote with the book's top, the last trade and the venue's time", () => {
    expect(parseCoinbase(JSON.stringify(ticker), at)).toEqual([
      { kind: "quote", quote: { venue: "coinbase", bid: 64210.01, ask: 64210.56, last: 64210.55, venueTs: Date.parse("2022-10-19T23:28:22.061Z"), receivedAt: at } },
    ]);
  });

  test("ticker_batch without the book gives the last trade only", () => {
    const { best_bid, best_ask, best_bid_size, best_ask_size, ...batch } = ticker;
    expect(parseCoinbase(JSON.stringify({ ...batch, type: "ticker_batch" }), at)).toEqual([
      { kind: "quote", quote: { venue: "coinbase", last: 64210.55, venueTs: Date.parse("2022-10-19T23:28:22.061Z"), receivedAt: at } },
    ]);
  });

  test("match and last_match are last trades", () => {
    const match = { type: "match", trade_id: 10, sequence: 50, maker_order_id: "ac928c66-ca53-498f-9c13-a110027a60e8", taker_order_id: "132fb6ae-456b-4654-b4e0-d681ac05cea1", time: "2014-11-07T08:19:27.028459Z", product_id: "BTC-USD", size: "5.23512", price: "400.23", side: "sell" };
    expect(parseCoinbase(JSON.stringify(match), at)).toEqual([{ kind: "quote", quote: { venue: "coinbase", last: 400.23, venueTs: Date.parse("2014-11-07T08:19:27.028Z"), receivedAt: at } }]);
    expect(parseCoinbase(JSON.stringify({ ...match, type: "last_match" }), at)[0]?.kind).toBe("quote");
  });

  test("a heartbeat on its own is proof of life", () => {
    expect(parseCoinbase(JSON.stringify({ type: "heartbeat", sequence: 90, last_trade_id: 20, product_id: "BTC-USD", time: "2014-11-07T08:19:28.464459Z" }), at)).toEqual([{ kind: "alive" }]);
  });

  test("the subscriptions ack with our ticker is a confirmation; without it, a refusal", () => {
    const ack = { type: "subscriptions", channels: [{ name: "ticker", product_ids: ["BTC-USD"] }, { name: "heartbeat", product_ids: ["BTC-USD"] }] };
    expect(parseCoinbase(JSON.stringify(ack), at)).toEqual([{ kind: "subscribed" }]);
    expect(parseCoinbase(JSON.stringify({ type: "subscriptions", channels: [{ name: "heartbeat", product_ids: ["BTC-USD"] }] }), at)[0]?.kind).toBe("refused");
  });

  test("an error message is a refusal that says why", () => {
    expect(parseCoinbase(JSON.stringify({ type: "error", message: "Failed to subscribe", reason: "BTC-USDX is not a valid product" }), at)).toEqual([
      { kind: "refused", reason: "Failed to subscribe: BTC-USDX is not a valid product" },
    ]);
  });

  test("another product and unknown message types are ignored", () => {
    expect(parseCoinbase(JSON.stringify({ ...ticker, product_id: "ETH-USD" }), at)).toEqual([{ kind: "ignored" }]);
    expect(parseCoinbase(JSON.stringify({ type: "status", products: [] }), at)).toEqual([{ kind: "ignored" }]);
  });

  test.each([
    ["not JSON", "{type: ticker"],
    ["an array", "[1,2]"],
    ["no type", JSON.stringify({ product_id: "BTC-USD" })],
    ["a price that is not a number", JSON.stringify({ ...ticker, price: "abc" })],
    ["a bid that is not a number", JSON.stringify({ ...ticker, best_bid: "1e5" })],
    ["a negative ask", JSON.stringify({ ...ticker, best_ask: "-1" })],
    ["one side of the book", JSON.stringify({ ...ticker, best_ask: undefined })],
    ["no price at all", JSON.stringify({ type: "ticker", product_id: "BTC-USD", time: ticker.time })],
    ["a time that is not a time", JSON.stringify({ ...ticker, time: "yesterday" })],
    ["a ticker without a product", JSON.stringify({ ...ticker, product_id: undefined })],
    ["a match whose price is null", JSON.stringify({ type: "match", product_id: "BTC-USD", price: null })],
  ])("%s is invalid", (_, text) => {
    const events = parseCoinbase(text, at);
    expect(events).toHaveLength(1);
    expect(events[0]?.kind).toBe("invalid");
  });
});

// Shaped like the heartbeat example of the same page, for BTC-USD.
const heartbeat = { type: "heartbeat", sequence: 90, last_trade_id: 20, product_id: "BTC-USD", time: "2014-11-07T08:19:28.464459Z" };

describe("createCoinbaseProtocol: sequences and trade ids on one connection", () => {
  /** A protocol after its subscribe, and a reader of frames given as objects. */
  const connection = () => {
    const protocol = createCoinbaseProtocol();
    protocol.subscribe();
    const read = (message: object): VenueEvent[] => protocol.parse(JSON.stringify(message), at);
    return { protocol, read };
  };
  const kinds = (events: VenueEvent[]) => events.map((event) => event.kind);

  test("a ticker whose sequence is not newer than the newest read is outdated: no quote", () => {
    const { read } = connection();
    expect(kinds(read({ ...ticker, sequence: 100, trade_id: 10 }))).toEqual(["quote"]);
    expect(read({ ...ticker, sequence: 99, trade_id: 9, best_bid: "1.00", best_ask: "1.01" })).toEqual([{ kind: "outdated", reason: "ticker sequence 99 is not newer than 100" }]);
    expect(kinds(read({ ...ticker, sequence: 100, trade_id: 10 }))).toEqual(["outdated"]);
    expect(kinds(read({ ...ticker, sequence: 101, trade_id: 11 }))).toEqual(["quote"]);
  });

  test("sequences are compared per message type, and a frame without one is read as before", () => {
    const { read } = connection();
    expect(kinds(read({ ...ticker, sequence: 100, trade_id: 10 }))).toEqual(["quote"]);
    expect(kinds(read({ ...ticker, type: "ticker_batch", sequence: 50 }))).toEqual(["quote"]);
    expect(kinds(read({ type: "match", trade_id: 10, sequence: 100, time: ticker.time, product_id: "BTC-USD", size: "0.1", price: "64210.55", side: "sell" }))).toEqual(["quote"]);
    const { sequence, ...unsequenced } = ticker;
    expect(kinds(read(unsequenced))).toEqual(["quote"]);
  });

  test("a heartbeat whose last_trade_id is ahead of the newest ticker's trade_id is a gap, reported once", () => {
    const { read } = connection();
    read({ ...ticker, sequence: 80, trade_id: 17 });
    expect(read(heartbeat)).toEqual([{ kind: "gap", reason: "heartbeat (sequence 90) last_trade_id 20 is ahead of the newest trade_id read, 17: 3 trade(s) without their ticker" }]);
    // The same heartbeat again: the gap is already counted.
    expect(read({ ...heartbeat, sequence: 91 })).toEqual([{ kind: "alive" }]);
    expect(kinds(read({ ...ticker, sequence: 92, trade_id: 21 }))).toEqual(["quote"]);
    expect(read({ ...heartbeat, sequence: 93, last_trade_id: 21 })).toEqual([{ kind: "alive" }]);
  });

  test("no gap while the heartbeats are in step with the tickers, or behind them", () => {
    const { read } = connection();
    read({ ...ticker, sequence: 85, trade_id: 20 });
    expect(read(heartbeat)).toEqual([{ kind: "alive" }]);
    read({ ...ticker, sequence: 95, trade_id: 22 });
    expect(read({ ...heartbeat, sequence: 94, last_trade_id: 21 })).toEqual([{ kind: "alive" }]);
    // Coinbase has been seen to send last_trade_id 0: never ahead.
    expect(read({ ...heartbeat, last_trade_id: 0 })).toEqual([{ kind: "alive" }]);
  });

  test("no gap before the first ticker, from another product's heartbeat, or against ticker_batch's lagging ids", () => {
    const { read } = connection();
    expect(read(heartbeat)).toEqual([{ kind: "alive" }]);
    read({ ...ticker, type: "ticker_batch", sequence: 80, trade_id: 5 });
    expect(read({ ...heartbeat, last_trade_id: 30 })).toEqual([{ kind: "alive" }]);
    read({ ...ticker, sequence: 81, trade_id: 17 });
    expect(read({ ...heartbeat, product_id: "ETH-USD", last_trade_id: 900 })).toEqual([{ kind: "alive" }]);
  });

  test("a match's trade id counts as read, as a ticker's does", () => {
    const { read } = connection();
    read({ type: "match", trade_id: 20, sequence: 89, time: ticker.time, product_id: "BTC-USD", size: "0.1", price: "400.23", side: "sell" });
    expect(read(heartbeat)).toEqual([{ kind: "alive" }]);
  });

  test("a new connection (subscribe) starts afresh: its first ticker is a quote and no gap is carried over", () => {
    const { protocol, read } = connection();
    read({ ...ticker, sequence: 100, trade_id: 10 });
    protocol.subscribe();
    expect(kinds(read({ ...ticker, sequence: 60, trade_id: 5 }))).toEqual(["quote"]);
    protocol.subscribe();
    expect(read({ ...heartbeat, last_trade_id: 50 })).toEqual([{ kind: "alive" }]);
  });

  test("two protocols do not share what they read", () => {
    const first = connection();
    const second = connection();
    first.read({ ...ticker, sequence: 100, trade_id: 10 });
    expect(kinds(second.read({ ...ticker, sequence: 90, trade_id: 9 }))).toEqual(["quote"]);
  });
});
