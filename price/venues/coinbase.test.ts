import { describe, expect, test } from "bun:test";
import { coinbase, parseCoinbase } from "./coinbase.ts";

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
    expect(coinbase.subscribe().map((frame) => JSON.parse(frame))).toEqual([{ type: "subscribe", product_ids: ["BTC-USD"], channels: ["ticker", "heartbeat"] }]);
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

  test("a heartbeat is proof of life", () => {
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
