import { describe, expect, test } from "bun:test";
import { bitstamp, bitstampTime, parseBitstamp } from "./bitstamp.ts";
import { midOf } from "./protocol.ts";

const at = 1_789_457_618_000;
const frame = (value: unknown) => JSON.stringify(value);

// Shaped like the examples of Bitstamp's Websocket API v2 page.
const book = (bids: unknown, asks: unknown, extra: Record<string, unknown> = {}) =>
  frame({
    data: { timestamp: "1789457617", microtimestamp: "1789457617906487", bids, asks, ...extra },
    channel: "order_book_btcusd",
    event: "data",
  });
const trade = (data: Record<string, unknown>, channel = "live_trades_btcusd") =>
  frame({
    data: { id: 212337562, timestamp: "1643643584", amount: 0.0028, amount_str: "0.00280000", type: 0, microtimestamp: "1643643584587000", buy_order_id: 1, sell_order_id: 2, ...data },
    channel,
    event: "trade",
  });

describe("bitstamp: subscribe and keep-alive", () => {
  test("one bts:subscribe frame per channel: the order book's top and live trades of btcusd", () => {
    expect(bitstamp.subscribe()).toEqual([
      '{"event":"bts:subscribe","data":{"channel":"order_book_btcusd"}}',
      '{"event":"bts:subscribe","data":{"channel":"live_trades_btcusd"}}',
    ]);
    for (const sent of bitstamp.subscribe()) expect(new TextEncoder().encode(sent).length).toBeLessThan(512);
  });

  test("the keep-alive is the client's bts:heartbeat, sent more often than the silence allows", () => {
    expect(bitstamp.keepAlive.message()).toBe('{"event":"bts:heartbeat"}');
    expect(bitstamp.keepAlive.everyMs * 2).toBeLessThanOrEqual(bitstamp.silenceMs);
    expect(bitstamp.backoff.baseMs).toBeLessThan(bitstamp.backoff.capMs);
  });
});

describe("bitstamp: parse", () => {
  test("a book frame is a quote of its first bid and ask, stamped with its microtimestamp", () => {
    const events = parseBitstamp(book([["77188", "0.41122"], ["77183", "0.32386"]], [["77189", "0.41124"], ["77193", "0.32385"]]), at);
    expect(events).toEqual([{ kind: "quote", quote: { venue: "bitstamp", bid: 77188, ask: 77189, venueTs: 1_789_457_617_906, receivedAt: at } }]);
    const [event] = events;
    expect(event?.kind === "quote" && midOf(event.quote)).toBe(77188.5);
  });

  test("a trade is a quote of its last price, read from price_str", () => {
    expect(parseBitstamp(trade({ price: 38416, price_str: "38416.12" }), at)).toEqual([
      { kind: "quote", quote: { venue: "bitstamp", last: 38416.12, venueTs: 1_643_643_584_587, receivedAt: at } },
    ]);
  });

  test("a trade without price_str falls back to the numeric price", () => {
    expect(parseBitstamp(trade({ price: 38416 }), at)).toEqual([
      { kind: "quote", quote: { venue: "bitstamp", last: 38416, venueTs: 1_643_643_584_587, receivedAt: at } },
    ]);
  });

  test("the venue time falls back to timestamp (seconds, or ms on some channels), and is left out when neither parses", () => {
    expect(bitstampTime({ timestamp: "1643643584" })).toBe(1_643_643_584_000);
    expect(bitstampTime({ timestamp: "1789456400586" })).toBe(1_789_456_400_586);
    expect(bitstampTime({ microtimestamp: "soon", timestamp: "later" })).toBeUndefined();
    const [event] = parseBitstamp(book([["100", "1"]], [["101", "1"]], { microtimestamp: "x", timestamp: 12 }), at);
    expect(event).toEqual({ kind: "quote", quote: { venue: "bitstamp", bid: 100, ask: 101, receivedAt: at } });
  });

  test("control events: ack, heartbeat answer, request to reconnect, error", () => {
    expect(parseBitstamp(frame({ event: "bts:subscription_succeeded", channel: "order_book_btcusd", data: {} }), at)).toEqual([{ kind: "subscribed" }]);
    expect(parseBitstamp(frame({ event: "bts:subscription_succeeded", channel: "live_trades_btcusd", data: {} }), at)).toEqual([{ kind: "subscribed" }]);
    expect(parseBitstamp(frame({ event: "bts:heartbeat", channel: "", data: { status: "success" } }), at)).toEqual([{ kind: "alive" }]);
    expect(parseBitstamp(frame({ event: "bts:request_reconnect", channel: "", data: "" }), at)).toEqual([{ kind: "reconnect", reason: "bts:request_reconnect" }]);
    expect(parseBitstamp(frame({ event: "bts:request_reconnect", channel: "", data: null }), at)[0]?.kind).toBe("reconnect");
    expect(parseBitstamp(frame({ event: "bts:error", channel: "", data: { code: null, message: "Invalid channel provided." } }), at)).toEqual([
      { kind: "refused", reason: "bts:error no code: Invalid channel provided." },
    ]);
    expect(parseBitstamp(frame({ event: "bts:error", channel: "" }), at)[0]?.kind).toBe("refused");
  });

  test("another pair, another channel and unknown events are ignored, not counted", () => {
    expect(parseBitstamp(frame({ data: { bids: [["90000", "1"]], asks: [["90001", "1"]] }, channel: "order_book_btceur", event: "data" }), at)).toEqual([{ kind: "ignored" }]);
    expect(parseBitstamp(trade({ price_str: "90000" }, "live_trades_btceur"), at)).toEqual([{ kind: "ignored" }]);
    expect(parseBitstamp(frame({ event: "bts:subscription_succeeded", channel: "order_book_btceur", data: {} }), at)).toEqual([{ kind: "ignored" }]);
    expect(parseBitstamp(frame({ event: "order_created", channel: "live_orders_btcusd", data: {} }), at)).toEqual([{ kind: "ignored" }]);
  });

  test("a crossed book (the docs say it corrects itself next message) gives no quote and is not a fault", () => {
    expect(parseBitstamp(book([["101", "1"]], [["100", "1"]]), at)).toEqual([{ kind: "ignored" }]);
  });

  test.each([
    ["not JSON", "{event: data"],
    ["JSON that is not an object", "[1,2,3]"],
    ["an object without event", frame({ channel: "order_book_btcusd", data: {} })],
    ["a book without data", frame({ event: "data", channel: "order_book_btcusd" })],
    ["a book with an empty side", book([], [["101", "1"]])],
    ["a book without bids", frame({ event: "data", channel: "order_book_btcusd", data: { asks: [["101", "1"]] } })],
    ["a book with a non-numeric price", book([["abc", "1"]], [["101", "1"]])],
    ["a book with a negative price", book([["-5", "1"]], [["101", "1"]])],
    ["a book with a level that is not an array", book(["100"], [["101", "1"]])],
    ["a trade without data", frame({ event: "trade", channel: "live_trades_btcusd" })],
    ["a trade without a price", trade({})],
    ["a trade with a non-numeric price_str", trade({ price: 100, price_str: "NaN" })],
    ["a trade with a zero price", trade({ price_str: "0" })],
  ])("%s is invalid (dropped and counted)", (_what, text) => {
    const [event, ...rest] = parseBitstamp(text, at);
    expect(event?.kind).toBe("invalid");
    expect(rest).toEqual([]);
  });
});
