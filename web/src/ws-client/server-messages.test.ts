import { describe, expect, test } from "bun:test";
import type { Grid } from "../../../common/contracts/grid.ts";
import { compactGrid } from "../../../common/grid-codec.ts";
import { dispatchServerMessage, readServerMessage, type ServerMessageHandlers } from "./server-messages.ts";

const cells = [
  { t_start: 5000, t_end: 10_000, price_low: 100, price_high: 110, multiplier: 1.9, rtp: 0.95, offered: true, locked: true },
  { t_start: 10_000, t_end: 15_000, price_low: 110, price_high: 120, multiplier: 100, rtp: 0.5, offered: false, locked: false },
];
const grid = { ts: 1000, price: 1, price_ts: 1000, sigma: 0, quote_id: "q", expires_at: 2000, column_ms: 5000, band: 10, lock_ms: 2000, house_edge: 0.05, min_rtp: 0.9, cells } satisfies Grid;
// What the server sends: the grid compact (common/grid-codec.ts).
const compact = compactGrid(grid);

describe("readServerMessage", () => {
  test("reads a price and where it came from, only when the message says it well", () => {
    const withOrigin = (extra: Record<string, unknown>) => JSON.stringify({ type: "price", symbol: "BTC-USD", price: 1, ts: 1000, ...extra });
    expect(readServerMessage(withOrigin({ source: "venues", venues: 3 }))).toEqual({ type: "price", tick: { symbol: "BTC-USD", price: 1, ts: 1000 }, origin: { source: "venues", venues: 3 } });
    expect(readServerMessage(withOrigin({ source: "binance", venues: 2.5 }))).toEqual({ type: "price", tick: { symbol: "BTC-USD", price: 1, ts: 1000 }, origin: {} });
  });

  test("reads grid, pong, bet, authed and error messages", () => {
    expect(readServerMessage(JSON.stringify({ type: "grid", grid: compact }))).toEqual({ type: "grid", grid });
    expect(readServerMessage('{"type":"pong","ts":5}')).toEqual({ type: "pong", ts: 5 });
    expect(readServerMessage(JSON.stringify({ type: "bet", bet_id: "b1", status: "lost", payout: 0, balance: 9, extra: 1 }))).toEqual({ type: "bet", bet_id: "b1", status: "lost", payout: 0, balance: 9 });
    expect(readServerMessage('{"type":"authed","user_id":"p1"}')).toEqual({ type: "authed", user_id: "p1" });
    expect(readServerMessage('{"type":"error","code":"unauthorized","message":"no"}')).toEqual({ type: "error", code: "unauthorized" });
  });

  test("anything else is undefined", () => {
    for (const junk of [
      "{bad",
      "42",
      "null",
      new Uint8Array(2),
      '{"type":"price","price":"1","ts":1,"symbol":"BTC-USD"}',
      '{"type":"price","price":1,"ts":1.5,"symbol":"BTC-USD"}',
      '{"type":"price","price":-1,"ts":1,"symbol":"BTC-USD"}',
      '{"type":"price","price":1,"ts":1,"symbol":"ETH-USD"}',
      JSON.stringify({ type: "grid", grid }), // the full grid: the server sends it compact
      JSON.stringify({ type: "grid", grid: { ...compact, multipliers: "not a list" } }),
      JSON.stringify({ type: "grid", grid: { ...compact, offered: "1" } }), // fewer cells than columns × bands
      JSON.stringify({ type: "grid", grid: { ...compact, band: undefined } }),
      JSON.stringify({ type: "bet", bet_id: "b2", status: "maybe", payout: 0, balance: 0 }),
      '{"type":"subscribed","channel":"grid"}',
      '{"type":"pong"}',
    ]) {
      expect(readServerMessage(junk)).toBeUndefined();
    }
  });
});

describe("dispatchServerMessage", () => {
  test("hands each message to its handler, and undefined to none", () => {
    const calls: [string, ...unknown[]][] = [];
    const handlers: ServerMessageHandlers = {
      price: (tick, origin) => void calls.push(["price", tick, origin]),
      grid: (g) => void calls.push(["grid", g]),
      pong: (ts) => void calls.push(["pong", ts]),
      bet: (event) => void calls.push(["bet", event]),
      authed: (userId) => void calls.push(["authed", userId]),
      error: (code) => void calls.push(["error", code]),
    };
    const tick = { symbol: "BTC-USD" as const, price: 2, ts: 3 };
    const bet = { type: "bet" as const, bet_id: "b", status: "won" as const, payout: 2, balance: 3 };
    dispatchServerMessage({ type: "price", tick, origin: { source: "mock" } }, handlers);
    dispatchServerMessage({ type: "grid", grid }, handlers);
    dispatchServerMessage({ type: "pong", ts: 9 }, handlers);
    dispatchServerMessage(bet, handlers);
    dispatchServerMessage({ type: "authed", user_id: "p" }, handlers);
    dispatchServerMessage({ type: "error", code: "session_expired" }, handlers);
    dispatchServerMessage(undefined, handlers);
    expect(calls).toEqual([
      ["price", tick, { source: "mock" }],
      ["grid", grid],
      ["pong", 9],
      ["bet", bet],
      ["authed", "p"],
      ["error", "session_expired"],
    ]);
  });
});
