import { describe, expect, test } from "bun:test";
import type { BetEvent } from "../../../common/contracts/bet-event.ts";
import type { Grid } from "../../../common/contracts/grid.ts";
import { compactGrid } from "../../../common/grid-codec.ts";
import type { Tick } from "../../../common/contracts/price.ts";
import { createFakeClock, createFakeSockets } from "./_test-doubles.ts";
import type { ConnState } from "./connection.ts";
import { connectLiveFeed } from "./live-feed.ts";
import type { PriceOrigin } from "./server-messages.ts";

/** The feed over fake sockets and a fake clock, with everything it hands on recorded. */
function harness(options: { online?: boolean; grid?: boolean; token?: () => Promise<string> } = {}) {
  const fakes = createFakeSockets();
  const clock = createFakeClock();
  const ticks: Tick[] = [];
  const origins: PriceOrigin[] = [];
  const states: ConnState[] = [];
  const grids: Grid[] = [];
  let resumed = 0;
  const bets: BetEvent[] = [];
  const authed: string[] = [];
  const refused: string[] = [];
  const pongs: [number, number, number][] = [];
  let online = options.online ?? true;
  const feed = connectLiveFeed({
    url: "ws://test/ws",
    onTick: (tick, origin) => {
      ticks.push(tick);
      origins.push(origin);
    },
    onState: (state) => states.push(state),
    ...(options.grid ? { onGrid: (grid: Grid) => void grids.push(grid) } : {}),
    onResumed: () => resumed++,
    onPong: (sentAt, serverTs, receivedAt) => void pongs.push([sentAt, serverTs, receivedAt]),
    ...(options.token
      ? { authToken: options.token, onBet: (event: BetEvent) => void bets.push(event), onAuthed: (id: string) => void authed.push(id), onUnauthorized: (t: string) => void refused.push(t) }
      : {}),
    openSocket: fakes.openSocket,
    ...clock.seams,
    isOnline: () => online,
  });
  return {
    feed,
    sockets: fakes.sockets,
    ticks,
    origins,
    states,
    grids,
    bets,
    authed,
    refused,
    pongs,
    advance: clock.advance,
    resumed: () => resumed,
    setOnline: (value: boolean) => (online = value),
    last: fakes.last,
  };
}

const price = (value: number, ts: number) => JSON.stringify({ type: "price", symbol: "BTC-USD", price: value, ts });

describe("live feed", () => {
  test("starts reconnecting, turns live on open, subscribes, and passes ticks on", () => {
    const h = harness();
    expect(h.feed.state()).toBe("reconnecting");
    h.last().open();
    expect(h.states).toEqual(["live"]);
    expect(JSON.parse(h.last().sent[0]!)).toEqual({ type: "subscribe", channel: "prices" });
    h.last().receive(price(42_000.5, 1000));
    expect(h.ticks).toEqual([{ symbol: "BTC-USD", price: 42_000.5, ts: 1000 }]);
    expect(h.resumed()).toBe(1);
  });

  test("passes on where each price came from, when its message says so and says it well", () => {
    const h = harness();
    h.last().open();
    const withOrigin = (extra: Record<string, unknown>) => JSON.stringify({ type: "price", symbol: "BTC-USD", price: 1, ts: 1000, ...extra });
    h.last().receive(withOrigin({ source: "venues", venues: 3 }));
    h.last().receive(withOrigin({ source: "mock" }));
    h.last().receive(withOrigin({}));
    h.last().receive(withOrigin({ source: "binance", venues: 2.5 }));
    expect(h.origins).toEqual([{ source: "venues", venues: 3 }, { source: "mock" }, {}, {}]);
    expect(h.ticks).toHaveLength(4);
  });

  test("with onGrid, subscribes to the grid on every connection and passes grids on", () => {
    const h = harness({ grid: true });
    h.last().open();
    expect(h.last().sent.map((m) => JSON.parse(m))).toEqual([
      { type: "subscribe", channel: "prices" },
      { type: "subscribe", channel: "grid" },
    ]);
    const cell = { t_start: 5000, t_end: 10_000, price_low: 1, price_high: 11, multiplier: 2.5, rtp: 0.94, offered: true, locked: false };
    const grid: Grid = { ts: 1000, price: 1, price_ts: 1000, sigma: 0, quote_id: "q", expires_at: 2000, column_ms: 5000, band: 10, lock_ms: 2000, house_edge: 0.05, min_rtp: 0.9, cells: [cell] };
    h.last().receive(JSON.stringify({ type: "subscribed", channel: "grid" }));
    // The server sends it compact; the page gets it whole.
    h.last().receive(JSON.stringify({ type: "grid", grid: compactGrid(grid) }));
    h.last().receive(JSON.stringify({ type: "grid", grid: { ...compactGrid(grid), multipliers: "not a list" } }));
    expect(h.grids).toEqual([grid]);
    h.last().drop();
    h.advance(60_000);
    h.last().open();
    expect(h.last().sent.map((m) => JSON.parse(m).channel)).toEqual(["prices", "grid"]);
  });

  test("without onGrid, subscribes to prices only", () => {
    const h = harness();
    h.last().open();
    expect(h.last().sent).toHaveLength(1);
  });

  test("ignores messages that are not well-formed prices", () => {
    const h = harness();
    h.last().open();
    for (const junk of ["{bad", "42", '{"type":"price","price":"1","ts":1,"symbol":"BTC-USD"}', '{"type":"price","price":1,"ts":1.5,"symbol":"BTC-USD"}', new Uint8Array(2)]) {
      h.last().receive(junk);
    }
    expect(h.ticks).toEqual([]);
  });

  test("resubscribes after a reconnect, and passes the new connection's ticks on", () => {
    const h = harness();
    h.last().open();
    h.last().receive(price(1, 1));
    h.last().drop();
    h.advance(250);
    h.last().drop(); // refused
    h.advance(500);
    expect(h.sockets).toHaveLength(3);
    h.last().open();
    expect(JSON.parse(h.last().sent[0]!)).toEqual({ type: "subscribe", channel: "prices" });
    h.last().receive(price(2, 2));
    expect(h.resumed()).toBe(2);
    expect(h.ticks.map((tick) => tick.price)).toEqual([1, 2]);
  });

  test("pairs each pong with its ping for the server clock, and forgets the pings of a dropped socket", () => {
    const h = harness();
    h.last().open();
    h.advance(5000);
    h.advance(5000);
    h.last().receive(JSON.stringify({ type: "pong", ts: 7_000 }));
    h.advance(20);
    h.last().receive(JSON.stringify({ type: "pong", ts: 12_000 }));
    expect(h.pongs).toEqual([
      [5000, 7_000, 10_000],
      [10_000, 12_000, 10_020],
    ]);
    h.advance(4980); // a third ping, never answered on this socket
    h.last().drop();
    h.advance(250);
    h.last().open();
    h.last().receive(JSON.stringify({ type: "pong", ts: 20_000 }));
    expect(h.pongs).toHaveLength(2);
  });

  test("with authToken, proves the token on every connection and passes bet events, authed and a refusal on", async () => {
    let token = "t1";
    const h = harness({ token: async () => token });
    h.last().open();
    await Promise.resolve();
    expect(h.last().sent.map((m) => JSON.parse(m))).toContainEqual({ type: "auth", token: "t1" });
    h.last().receive(JSON.stringify({ type: "authed", user_id: "p1" }));
    h.last().receive(JSON.stringify({ type: "bet", bet_id: "b1", status: "won", payout: 11.75, balance: 1006.75 }));
    h.last().receive(JSON.stringify({ type: "bet", bet_id: "b2", status: "maybe", payout: 0, balance: 0 }));
    expect(h.authed).toEqual(["p1"]);
    expect(h.bets).toEqual([{ type: "bet", bet_id: "b1", status: "won", payout: 11.75, balance: 1006.75 }]);

    // Refused: the page renews its token, the server closes with 4001, and the next connection proves the new one.
    h.last().receive(JSON.stringify({ type: "error", code: "unauthorized", message: "bad token" }));
    expect(h.refused).toEqual(["t1"]);
    token = "t2";
    h.last().drop();
    h.advance(1000);
    h.last().open();
    await Promise.resolve();
    expect(h.sockets).toHaveLength(2);
    expect(h.last().sent.map((m) => JSON.parse(m))).toContainEqual({ type: "auth", token: "t2" });
  });

  test("a token that expires on a live connection is renewed like a refused one, and the next connection proves the new one", async () => {
    let token = "t1";
    const h = harness({ token: async () => token });
    h.last().open();
    await Promise.resolve();
    h.last().receive(JSON.stringify({ type: "authed", user_id: "p1" }));
    // The server's sweep: an error, then close code 4002.
    h.last().receive(JSON.stringify({ type: "error", code: "session_expired", message: "the session token has expired" }));
    expect(h.refused).toEqual(["t1"]);
    token = "t2";
    h.last().drop();
    h.advance(1000);
    h.last().open();
    await Promise.resolve();
    expect(h.sockets).toHaveLength(2);
    expect(h.last().sent.map((m) => JSON.parse(m))).toContainEqual({ type: "auth", token: "t2" });
  });

  test("other errors are not a refusal of the session", async () => {
    const h = harness({ token: async () => "t1" });
    h.last().open();
    await Promise.resolve();
    h.last().receive(JSON.stringify({ type: "error", code: "bad_request", message: "unknown channel" }));
    expect(h.refused).toEqual([]);
  });

  test("a token that arrives after its socket closed is not sent", async () => {
    let release: (token: string) => void = () => {};
    const h = harness({ token: () => new Promise((resolve) => (release = resolve)) });
    h.last().open();
    const first = h.last();
    first.drop();
    release("t1");
    await Promise.resolve();
    expect(first.sent.some((m) => m.includes("auth"))).toBe(false);
  });
});
