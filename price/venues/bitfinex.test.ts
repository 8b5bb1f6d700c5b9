import { describe, expect, test } from "bun:test";
import { createBitfinexProtocol } from "./bitfinex.ts";

const at = 1_511_545_528_111;
const frame = (value: unknown) => JSON.stringify(value);

// Shaped like the examples of Bitfinex's ws-general and ws-public-ticker pages.
const info = frame({ event: "info", version: 2, platform: { status: 1 } });
const subscribed = (chanId: number, symbol = "tBTCUSD") => frame({ event: "subscribed", channel: "ticker", chanId, symbol, pair: symbol.slice(1) });
const ticker = (chanId: number, fields: unknown[] = [7616.5, 31.89055171, 7617.5, 43.358118629999986, -550.8, -0.0674, 7617.1, 8314.71200815, 8257.8, 7500]) =>
  frame([chanId, fields]);

/** A protocol that has connected and been given channel 224555 for the ticker. */
const subscribedProtocol = () => {
  const protocol = createBitfinexProtocol();
  protocol.subscribe();
  protocol.parse(info, at);
  expect(protocol.parse(subscribed(224555), at)).toEqual([{ kind: "subscribed" }]);
  return protocol;
};

describe("bitfinex: subscribe and keep-alive", () => {
  test("one subscribe to the ticker of tBTCUSD", () => {
    expect(createBitfinexProtocol().subscribe()).toEqual(['{"event":"subscribe","channel":"ticker","symbol":"tBTCUSD"}']);
  });

  test("the keep-alive is a ping with a fresh cid each time, sent more often than the silence allows", () => {
    const protocol = createBitfinexProtocol();
    expect(protocol.keepAlive?.message(at)).toBe('{"event":"ping","cid":1}');
    expect(protocol.keepAlive?.message(at)).toBe('{"event":"ping","cid":2}');
    expect((protocol.keepAlive?.everyMs ?? Infinity) * 2).toBeLessThanOrEqual(protocol.silenceMs);
  });

  test("the backoff never retries sooner than 3 s: api-pub allows 20 connections a minute", () => {
    const { baseMs, capMs } = createBitfinexProtocol().backoff;
    expect(baseMs / 2).toBeGreaterThanOrEqual(60_000 / 20);
    expect(capMs).toBeGreaterThan(baseMs);
  });
});

describe("bitfinex: parse", () => {
  test("the ticker of our channel is a quote of BID, ASK and LAST_PRICE", () => {
    expect(subscribedProtocol().parse(ticker(224555), at)).toEqual([{ kind: "quote", quote: { venue: "bitfinex", bid: 7616.5, ask: 7617.5, last: 7617.1, receivedAt: at } }]);
  });

  test("fields appended after LOW (the docs say lengths may grow) change nothing", () => {
    const [event] = subscribedProtocol().parse(ticker(224555, [100, 1, 101, 1, 0, 0, 100.5, 1, 2, 3, null, "new"]), at);
    expect(event).toEqual({ kind: "quote", quote: { venue: "bitfinex", bid: 100, ask: 101, last: 100.5, receivedAt: at } });
  });

  test("a ticker whose LAST_PRICE does not parse still gives the book's top", () => {
    const [event] = subscribedProtocol().parse(ticker(224555, [100, 1, 101, 1, 0, 0, null, 1, 2, 3]), at);
    expect(event).toEqual({ kind: "quote", quote: { venue: "bitfinex", bid: 100, ask: 101, receivedAt: at } });
  });

  test("a channel id we did not subscribe to is ignored, before and after the ack", () => {
    const fresh = createBitfinexProtocol();
    fresh.subscribe();
    expect(fresh.parse(ticker(224555), at)).toEqual([{ kind: "ignored" }]);
    const protocol = subscribedProtocol();
    expect(protocol.parse(ticker(17), at)).toEqual([{ kind: "ignored" }]);
    expect(protocol.parse(frame([17, "hb"]), at)).toEqual([{ kind: "ignored" }]);
  });

  test("a subscription to another symbol or channel does not take our channel id", () => {
    const protocol = subscribedProtocol();
    expect(protocol.parse(subscribed(999, "tETHUSD"), at)).toEqual([{ kind: "ignored" }]);
    expect(protocol.parse(frame({ event: "subscribed", channel: "trades", chanId: 998, symbol: "tBTCUSD" }), at)).toEqual([{ kind: "ignored" }]);
    expect(protocol.parse(ticker(999), at)).toEqual([{ kind: "ignored" }]);
    expect(protocol.parse(ticker(224555), at)[0]?.kind).toBe("quote");
  });

  test("a new subscribe (a new connection) forgets the old channel id", () => {
    const protocol = subscribedProtocol();
    protocol.subscribe();
    expect(protocol.parse(ticker(224555), at)).toEqual([{ kind: "ignored" }]);
    protocol.parse(subscribed(300), at);
    expect(protocol.parse(ticker(300), at)[0]?.kind).toBe("quote");
  });

  test("heartbeat and pong are proof of life; info on connect and conf are ignored", () => {
    const protocol = subscribedProtocol();
    expect(protocol.parse(frame([224555, "hb"]), at)).toEqual([{ kind: "alive" }]);
    expect(protocol.parse(frame({ event: "pong", ts: 1511545528111, cid: 1234 }), at)).toEqual([{ kind: "alive" }]);
    expect(protocol.parse(info, at)).toEqual([{ kind: "ignored" }]);
    expect(protocol.parse(frame({ event: "conf", status: "OK" }), at)).toEqual([{ kind: "ignored" }]);
  });

  test("info 20051 asks for a reconnect; platform status 0 on connect is a refusal (retried with backoff)", () => {
    const protocol = subscribedProtocol();
    expect(protocol.parse(frame({ event: "info", code: 20051, msg: "Stop/Restart Websocket Server (please reconnect)" }), at)).toEqual([
      { kind: "reconnect", reason: "info 20051: server restart" },
    ]);
    expect(protocol.parse(frame({ event: "info", version: 2, platform: { status: 0 } }), at)[0]?.kind).toBe("refused");
  });

  test("info 20060 pauses: quotes are ignored, heartbeats still count; 20061 reconnects to subscribe anew", () => {
    const protocol = subscribedProtocol();
    expect(protocol.parse(frame({ event: "info", code: 20060, msg: "Entering in Maintenance mode" }), at)).toEqual([{ kind: "alive" }]);
    expect(protocol.parse(ticker(224555), at)).toEqual([{ kind: "ignored" }]);
    expect(protocol.parse(frame([224555, "hb"]), at)).toEqual([{ kind: "alive" }]);
    expect(protocol.parse(frame({ event: "info", code: 20061, msg: "Maintenance ended" }), at)[0]?.kind).toBe("reconnect");
    protocol.subscribe();
    protocol.parse(subscribed(301), at);
    expect(protocol.parse(ticker(301), at)[0]?.kind).toBe("quote");
  });

  test("no subscribed answer by the second keep-alive: the next frame asks for a reconnect, so pongs cannot keep a feedless connection", () => {
    const protocol = createBitfinexProtocol();
    protocol.subscribe();
    protocol.keepAlive?.message(at);
    expect(protocol.parse(frame({ event: "pong", ts: at, cid: 1 }), at)).toEqual([{ kind: "alive" }]);
    protocol.keepAlive?.message(at);
    expect(protocol.parse(frame({ event: "pong", ts: at, cid: 2 }), at)).toEqual([{ kind: "reconnect", reason: "no subscribed answer after 2 keep-alives" }]);
    // A late ack still counts, and then keep-alives are only keep-alives.
    expect(protocol.parse(subscribed(5), at)).toEqual([{ kind: "subscribed" }]);
    protocol.keepAlive?.message(at);
    expect(protocol.parse(frame([5, "hb"]), at)).toEqual([{ kind: "alive" }]);
    // A new connection starts the count again.
    protocol.subscribe();
    protocol.keepAlive?.message(at);
    expect(protocol.parse(frame({ event: "pong", ts: at, cid: 4 }), at)).toEqual([{ kind: "alive" }]);
  });

  test("a subscribe error is a refusal, except 'already subscribed'", () => {
    const protocol = createBitfinexProtocol();
    protocol.subscribe();
    expect(protocol.parse(frame({ event: "error", msg: "Unknown pair", code: 10001 }), at)).toEqual([{ kind: "refused", reason: "error 10001: Unknown pair" }]);
    expect(protocol.parse(frame({ event: "error", msg: "Subscription failed (generic)", code: 10300 }), at)[0]?.kind).toBe("refused");
    expect(protocol.parse(frame({ event: "error", msg: "Already subscribed", code: 10301 }), at)).toEqual([{ kind: "ignored" }]);
  });

  test("a crossed ticker gives no quote and is not a fault", () => {
    expect(subscribedProtocol().parse(ticker(224555, [101, 1, 100, 1, 0, 0, 100.5, 1, 2, 3]), at)).toEqual([{ kind: "ignored" }]);
  });

  test.each([
    ["not JSON", "[224555, [7616.5"],
    ["a bare number", "42"],
    ["an object without event", frame({ chanId: 224555 })],
    ["a channel message without a numeric chanId", frame(["224555", [1, 1, 2, 1, 0, 0, 1.5]])],
    ["a ticker with too few fields", ticker(224555, [7616.5, 1, 7617.5])],
    ["a ticker that is a string other than hb", frame([224555, "xx"])],
    ["a ticker with a non-numeric BID", ticker(224555, ["abc", 1, 7617.5, 1, 0, 0, 7617.1, 1, 2, 3])],
    ["a ticker with a missing ASK", ticker(224555, [7616.5, 1, null, 1, 0, 0, 7617.1, 1, 2, 3])],
    ["a ticker with a negative BID", ticker(224555, [-1, 1, 7617.5, 1, 0, 0, 7617.1, 1, 2, 3])],
    ["a subscribed event without an integer chanId", frame({ event: "subscribed", channel: "ticker", chanId: "x", symbol: "tBTCUSD" })],
  ])("%s is invalid (dropped and counted)", (_what, text) => {
    const [event, ...rest] = subscribedProtocol().parse(text, at);
    expect(event?.kind).toBe("invalid");
    expect(rest).toEqual([]);
  });
});
