import { describe, expect, test } from "bun:test";
import { type Bus, createMemoryBus } from "../common/bus/mod.ts";
import { Channels } from "../common/channels.ts";
import type { CompactGrid } from "../common/contracts/grid.ts";
import type { Tick } from "../common/contracts/price.ts";
import { WS_MAX_MESSAGE_BYTES, WsCloseCode } from "../common/contracts/ws.ts";
import { createLogger } from "../common/log.ts";
import { createSessionTokens } from "../common/sessions/token.ts";
import { openSlowReader } from "../test/support/slow-reader.ts";
import { waitFor } from "../test/support/wait.ts";
import { connectClient, connectRawClient } from "./_test-client.ts";
import { startWsServer, type WsLimits, type WsServer, type WsServerOptions } from "./server.ts";

const log = createLogger({ component: "ws", level: "silent" });

interface Harness extends AsyncDisposable {
  bus: Bus;
  server: WsServer;
  url: string;
}

async function serve(latestTick: () => Promise<Tick | undefined>, limits: Partial<WsLimits> = {}, options: Pick<WsServerOptions, "verifyToken"> = {}): Promise<Harness> {
  const bus = createMemoryBus();
  const server = await startWsServer({ port: 0, hostname: "127.0.0.1", bus, latestTick, log, limits, ...options });
  return {
    bus,
    server,
    url: `ws://127.0.0.1:${server.port}/ws`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await bus.close();
    },
  };
}

const tick = (price: number, ts: number): string => JSON.stringify({ symbol: "BTC-USD", price, ts });
const isPrice = (price: number) => (message: Record<string, unknown>) => message.type === "price" && message.price === price;

/** Publishes until the client has the tick: its subscription follows the snapshot read, a moment after open. */
async function deliver(h: Harness, client: Awaited<ReturnType<typeof connectClient>>, price: number) {
  return await waitFor(`price ${price}`, async () => {
    await h.bus.publish(Channels.priceTicks, tick(price, Date.now()));
    await Bun.sleep(5);
    return client.json().find(isPrice(price));
  });
}

describe("ws server (in process, memory bus)", () => {
  test("each tick is serialised and published once, and every client, whatever its price shard, gets the same messages in order", async () => {
    await using h = await serve(async () => undefined, { priceShards: 7 });
    const clients = await Promise.all(Array.from({ length: 20 }, () => connectClient(h.url)));
    await Promise.all(clients.map((client) => deliver(h, client, 1)));
    const from = clients.map((client) => client.received.length);
    const before = h.server.stats().ticks_published;
    // Newer than the warm-up tick: the bridge sends ticks in time order only.
    const base = Date.now() + 1000;
    for (const price of [2, 3, 4]) await h.bus.publish(Channels.priceTicks, tick(price, base + price));
    await Promise.all(clients.map((client, i) => client.next("price 4", isPrice(4), from[i])));
    expect(h.server.stats().ticks_published - before).toBe(3);
    for (const [i, client] of clients.entries()) {
      // Late copies of the warm-up tick (price 1) may still arrive; the rest must be exactly the three ticks.
      const after = client.received.slice(from[i]).filter((m) => typeof m === "string" && !m.includes('"price":1,'));
      expect(after).toEqual([2, 3, 4].map((p) => `{"type":"price","symbol":"BTC-USD","price":${p},"ts":${base + p}}`));
      await client.close();
    }
  });

  test("the snapshot comes first, and a newer tick seen on the bus wins over the stored one", async () => {
    const stored: Tick = { symbol: "BTC-USD", price: 10, ts: 1000 };
    await using h = await serve(async () => stored);
    await using first = await connectClient(h.url);
    await first.next("snapshot", isPrice(10));
    expect(first.json()[0]).toEqual({ type: "price", symbol: "BTC-USD", price: 10, ts: 1000 });
    await deliver(h, first, 11);
    await using second = await connectClient(h.url);
    await second.next("snapshot", (m) => m.type === "price");
    expect(second.json()[0]).toMatchObject({ type: "price", price: 11 });
  });

  test("the snapshot says where the price came from, stored or seen on the bus, so the page labels it from the start", async () => {
    await using h = await serve(async () => ({ symbol: "BTC-USD", price: 10, ts: 1000, source: "venues", venues: 3 }));
    await using first = await connectClient(h.url);
    await first.next("snapshot", isPrice(10));
    expect(first.json()[0]).toEqual({ type: "price", symbol: "BTC-USD", price: 10, ts: 1000, source: "venues", venues: 3 });
    await h.bus.publish(Channels.priceTicks, JSON.stringify({ symbol: "BTC-USD", price: 11, ts: 2000, source: "mock" }));
    await first.next("bus tick", isPrice(11));
    await using second = await connectClient(h.url);
    await second.next("snapshot", (m) => m.type === "price");
    expect(second.json()[0]).toEqual({ type: "price", symbol: "BTC-USD", price: 11, ts: 2000, source: "mock" });
  });

  test("ticks that go by while the stored price is read are not sent before it, nor twice", async () => {
    const stored = Promise.withResolvers<Tick>();
    await using h = await serve(() => stored.promise);
    await using client = await connectClient(h.url);
    await h.bus.publish(Channels.priceTicks, tick(21, 2000));
    await waitFor("the bridge to see it", () => h.server.stats().ticks_published === 1);
    stored.resolve({ symbol: "BTC-USD", price: 20, ts: 1000 });
    await client.next("snapshot", (m) => m.type === "price");
    await h.bus.publish(Channels.priceTicks, tick(22, 3000));
    await client.next("next tick", isPrice(22));
    expect(client.json().map((m) => m.price)).toEqual([21, 22]);
  });

  test("a stored tick that reaches the bus after a client was sent it as its snapshot is not sent to that client again", async () => {
    // The price service SETs the key, then PUBLISHes: a client that connects in between reads the tick first.
    await using h = await serve(async () => ({ symbol: "BTC-USD", price: 30, ts: 5000 }), { priceShards: 3 });
    const clients = await Promise.all(Array.from({ length: 6 }, () => connectClient(h.url)));
    await Promise.all(clients.map((client) => client.next("snapshot", isPrice(30))));
    await h.bus.publish(Channels.priceTicks, tick(30, 5000));
    await h.bus.publish(Channels.priceTicks, tick(31, 6000));
    await Promise.all(clients.map((client) => client.next("next tick", isPrice(31))));
    for (const client of clients) {
      expect(client.json().map((m) => m.ts)).toEqual([5000, 6000]);
      await client.close();
    }
  });

  test("a store that hangs or fails delays the client by the timeout at most, and ticks still arrive", async () => {
    for (const latestTick of [() => new Promise<undefined>(() => {}), () => Promise.reject(new Error("redis down"))]) {
      await using h = await serve(latestTick, { snapshotTimeoutMs: 100 });
      await using client = await connectClient(h.url);
      await deliver(h, client, 7);
      expect(h.server.stats().snapshot_failures).toBe(1);
      client.ws.send('{"type":"ping"}');
      await client.next("pong", (m) => m.type === "pong");
    }
  });

  test("an unsubscribe sent while the snapshot is being read is not undone by it", async () => {
    const stored = Promise.withResolvers<Tick>();
    await using h = await serve(() => stored.promise);
    await using client = await connectClient(h.url);
    client.ws.send('{"type":"unsubscribe","channel":"prices"}');
    await client.next("ack", (m) => m.type === "unsubscribed");
    stored.resolve({ symbol: "BTC-USD", price: 5, ts: 5 });
    await using witness = await connectClient(h.url);
    await deliver(h, witness, 6);
    expect(client.json().filter((m) => m.type === "price")).toEqual([]);
  });

  // Filling the kernel's socket buffers first takes several seconds: more than bun test's 5 s default.
  test("a slow consumer is dropped at the backpressure limit; a reading client is not", async () => {
    await using h = await serve(async () => undefined, { backpressureLimitBytes: 64 * 1024 });
    await using reader = await connectClient(h.url);
    await deliver(h, reader, 1);
    await using slow = await connectRawClient(h.server.port, "/ws", { paused: true });
    await waitFor("slow client subscribed", () => h.server.stats().connections === 2);
    // The kernel's socket buffers take a few MB first; then Bun's queue reaches the limit.
    await waitFor(
      "slow client dropped",
      async () => {
        for (let i = 0; i < 2000; i++) await h.bus.publish(Channels.priceTicks, tick(100 + (i % 50), Date.now()));
        return h.server.stats().connections === 1;
      },
      20_000,
      1,
    );
    expect(reader.ws.readyState).toBe(WebSocket.OPEN);
    await deliver(h, reader, 2);
  }, 30_000);

  test("/ws without a websocket upgrade is a 426 upgrade_required in the error contract, echoing the caller's request id", async () => {
    await using h = await serve(async () => undefined);
    const plain = await fetch(h.url.replace("ws:", "http:"), { headers: { "x-request-id": "plain-get-1" } });
    expect(plain.status).toBe(426);
    expect(plain.headers.get("x-request-id")).toBe("plain-get-1");
    expect(plain.headers.get("upgrade")).toBe("websocket");
    expect((await plain.json()) as unknown).toEqual({ error: { code: "upgrade_required", message: "expected a websocket upgrade", details: [], request_id: "plain-get-1" } });
  });

  test("a message at the size limit is taken (echoed); one byte over closes the connection with 1009", async () => {
    await using h = await serve(async () => undefined);
    await using client = await connectClient(h.url);
    const atLimit = "x".repeat(WS_MAX_MESSAGE_BYTES);
    client.ws.send(atLimit);
    await waitFor("the echo at the limit", () => client.received.includes(atLimit));
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    let closeCode: number | undefined;
    void client.closed.then(({ code }) => (closeCode = code));
    const overLimit = "y".repeat(WS_MAX_MESSAGE_BYTES + 1);
    client.ws.send(overLimit);
    // Either it closes or, with a larger limit, the message comes back: fail at once, not at a timeout.
    await waitFor("a close or an echo", () => closeCode !== undefined || client.received.includes(overLimit));
    expect(client.received.includes(overLimit)).toBe(false);
    expect(closeCode).toBe(WsCloseCode.messageTooBig);
  });

  test("past maxConnections an upgrade is answered 503", async () => {
    await using h = await serve(async () => undefined, { maxConnections: 2 });
    await using a = await connectClient(h.url);
    await using b = await connectClient(h.url);
    const refused = await fetch(h.url.replace("ws:", "http:"));
    expect(refused.status).toBe(503);
    expect((await refused.json()) as unknown).toMatchObject({ error: { code: "unavailable" } });
    await expect(connectClient(h.url)).rejects.toThrow();
    expect(h.server.stats().connections_rejected).toBeGreaterThanOrEqual(2);
    await a.close();
    await waitFor("a slot", () => h.server.stats().connections === 1);
    await using c = await connectClient(h.url);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });
});

/** A grid as the API publishes it (compact), of about `bytes` bytes: one band, as many columns as it takes. */
function gridOf(bytes: number, ts = Date.now()): string {
  const header = { ts, price: 42005, price_ts: ts, sigma: 0.0005, quote_id: "q", expires_at: ts + 1000, column_ms: 5000, band: 10, lock_ms: 2000, house_edge: 0.05, min_rtp: 0.9 };
  // About 11 bytes a column: "1.5," "9400," and a character in each of locked and offered.
  const columns = Math.max(1, Math.ceil((bytes - 300) / 11));
  const grid: CompactGrid = { ...header, first_t_start: ts, columns, first_price_low: 42000, bands: 1, locked: "0".repeat(columns), multipliers: Array(columns).fill(1.5), rtp_e4: Array(columns).fill(9400), offered: "1".repeat(columns) };
  return JSON.stringify(grid);
}

const isGrid = (message: Record<string, unknown>) => message.type === "grid";

/** A first grid (its columns from `first`) published, then `count` clients subscribed to the grid, each sent it as its snapshot. */
async function gridSubscribers(h: Harness, count: number, first: number) {
  await h.bus.publish(Channels.grid, gridOf(200, first));
  await waitFor("the first grid", () => h.server.stats().grids_published === 1);
  const clients = await Promise.all(Array.from({ length: count }, () => connectClient(h.url)));
  for (const client of clients) client.ws.send('{"type":"subscribe","channel":"grid"}');
  await Promise.all(clients.map((client) => client.next("snapshot", isGrid)));
  return clients;
}

describe("the grid, shard by shard", () => {
  test("every grid subscriber, whatever its shard, gets the latest grid on subscribing, then each new grid once, in order", async () => {
    await using h = await serve(async () => undefined, { priceShards: 5 });
    const first = Date.now();
    const clients = await gridSubscribers(h, 12, first);
    for (const n of [1, 2, 3]) await h.bus.publish(Channels.grid, gridOf(200, first + n * 1000));
    await Promise.all(clients.map((client) => client.next("the last grid", (m) => isGrid(m) && (m.grid as { first_t_start: number }).first_t_start === first + 3000)));
    await Bun.sleep(50); // nothing more may come
    for (const client of clients) {
      const starts = client.json().filter(isGrid).map((m) => (m.grid as { first_t_start: number }).first_t_start);
      expect(starts).toEqual([first, first + 1000, first + 2000, first + 3000]);
      await client.close();
    }
  });
});

describe("the grid spread over time (WS_GRID_SPREAD_MS)", () => {
  test("a grid's shards go out over the spread: every subscriber gets it once, the last shard at least most of the spread after the first", async () => {
    const SPREAD_MS = 200;
    await using h = await serve(async () => undefined, { priceShards: 5, gridSpreadMs: SPREAD_MS });
    const first = Date.now();
    const clients = await gridSubscribers(h, 10, first);
    // Settled in their shards (a joining socket waits for the grid it was sent to go by there).
    await Bun.sleep(SPREAD_MS + 100);
    const isSecond = (m: Record<string, unknown>) => isGrid(m) && (m.grid as { first_t_start: number }).first_t_start === first + 1000;
    const arrivals = clients.map((client) => client.next("the second grid", isSecond).then(() => performance.now()));
    await h.bus.publish(Channels.grid, gridOf(200, first + 1000));
    const times = await Promise.all(arrivals);
    // Four gaps of SPREAD_MS / 4 between the five shards; timers never fire early.
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(SPREAD_MS * 0.75);
    await Bun.sleep(50);
    for (const client of clients) {
      expect(client.json().filter(isGrid).map((m) => (m.grid as { first_t_start: number }).first_t_start)).toEqual([first, first + 1000]);
      await client.close();
    }
  });
});

describe("slow readers (bytes sent and not read, ws/unacked-bytes.ts)", () => {
  const LIMIT = 64 * 1024;
  const GRACE_MS = 1000;

  test("a client that stops reading is closed with slow_consumer (4003) a grace after it falls a limit behind; a reading client on the same server is not", async () => {
    await using h = await serve(async () => undefined, { backpressureLimitBytes: LIMIT, slowClientGraceMs: GRACE_MS, sweepMs: 100 });
    await using reader = await connectClient(h.url);
    reader.ws.send('{"type":"subscribe","channel":"grid"}');
    await reader.next("grid ack", (m) => m.type === "subscribed" && m.channel === "grid");
    await using slow = await openSlowReader({ port: h.server.port, commands: ['{"type":"subscribe","channel":"grid"}'] });
    await waitFor("both connected", () => h.server.stats().connections === 2);
    await Bun.sleep(50); // the slow client's subscribe command is read

    // 30 kB grids at 600 kB/s: over the limit within 0.2 s. The kernel's buffers (MBs) would hold
    // this for several seconds before ws's own queue reached Bun's limit.
    const started = performance.now();
    let published = 0;
    let droppedAfterMs = Number.NaN;
    while (performance.now() - started < GRACE_MS + 3000) {
      await h.bus.publish(Channels.grid, gridOf(30_000));
      published++;
      await Bun.sleep(50);
      if (h.server.stats().connections === 1) {
        droppedAfterMs = performance.now() - started;
        break;
      }
    }
    expect(h.server.stats().connections_slow).toBe(1);
    expect(droppedAfterMs).toBeGreaterThanOrEqual(GRACE_MS);
    expect(droppedAfterMs).toBeLessThan(GRACE_MS + 2000);
    // Reading at last, it finds the error and the close code behind what it had not read.
    expect(await slow.closeFrame()).toMatchObject({ code: WsCloseCode.slowConsumer });

    expect(reader.ws.readyState).toBe(WebSocket.OPEN);
    await waitFor("every grid on the reading client", () => reader.json().filter(isGrid).length === published);
    await h.bus.publish(Channels.grid, gridOf(100));
    await waitFor("a grid after the drop", () => reader.json().filter(isGrid).length === published + 1);
  });

  test("a client that reads everything is never closed, through a burst of many times the limit per second for longer than the grace", async () => {
    await using h = await serve(async () => undefined, { backpressureLimitBytes: LIMIT, slowClientGraceMs: GRACE_MS, sweepMs: 100 });
    await using reader = await connectClient(h.url);
    reader.ws.send('{"type":"subscribe","channel":"grid"}');
    await reader.next("grid ack", (m) => m.type === "subscribed" && m.channel === "grid");
    // 20 kB a turn, about 3 MB/s for 3 grace periods: each sweep sees far more than the limit sent since the last.
    const started = performance.now();
    let published = 0;
    while (performance.now() - started < 3 * GRACE_MS) {
      await h.bus.publish(Channels.grid, gridOf(20_000));
      published++;
      if (published % 2 === 0) await Bun.sleep(1);
    }
    await waitFor("every grid read", () => reader.json().filter(isGrid).length === published, 10_000);
    expect(published * 20_000).toBeGreaterThan(20 * LIMIT);
    expect(reader.ws.readyState).toBe(WebSocket.OPEN);
    expect(h.server.stats()).toMatchObject({ connections: 1, connections_slow: 0 });
  });
});

describe("session expiry on a live websocket", () => {
  const tokens = createSessionTokens("s".repeat(32));
  const verifyToken = (token: string) => tokens.verify(token, Date.now());
  const betEvent = (playerId: string, betId: string) =>
    JSON.stringify([{ player_id: playerId, event: { type: "bet", bet_id: betId, status: "accepted", payout: 0, balance: 1000 } }]);
  const isBet = (betId: string) => (m: Record<string, unknown>) => m.type === "bet" && m.bet_id === betId;

  test("when its token expires the socket gets a session_expired error, then close code 4002; a still-valid one keeps its bet events", async () => {
    await using h = await serve(async () => undefined, { sweepMs: 50 }, { verifyToken });
    await using short = await connectClient(h.url);
    await using long = await connectClient(h.url);
    const expiresAt = Date.now() + 1000;
    short.ws.send(JSON.stringify({ type: "auth", token: tokens.sign({ sub: "p_short", exp: expiresAt }) }));
    long.ws.send(JSON.stringify({ type: "auth", token: tokens.sign({ sub: "p_long", exp: Date.now() + 60_000 }) }));
    await short.next("authed", (m) => m.type === "authed");
    await long.next("authed", (m) => m.type === "authed");
    await h.bus.publish(Channels.betEvents, betEvent("p_short", "b1"));
    await short.next("bet event before expiry", isBet("b1"));

    const { code } = await short.closed;
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(Date.now() - expiresAt).toBeLessThan(1000);
    expect(code).toBe(WsCloseCode.sessionExpired);
    const errors = short.json().filter((m) => m.type === "error");
    expect(errors).toEqual([{ type: "error", code: "session_expired", message: expect.any(String) }]);
    expect(h.server.stats().connections_expired).toBe(1);

    // The other player's connection was not touched and still hears its bets.
    await h.bus.publish(Channels.betEvents, betEvent("p_long", "b2"));
    await long.next("bet event after the other expired", isBet("b2"));
    expect(long.ws.readyState).toBe(WebSocket.OPEN);
  });

  test("a connection that re-authenticates with a fresh token is judged by the new expiry", async () => {
    await using h = await serve(async () => undefined, { sweepMs: 50 }, { verifyToken });
    await using client = await connectClient(h.url);
    client.ws.send(JSON.stringify({ type: "auth", token: tokens.sign({ sub: "p_1", exp: Date.now() + 600 }) }));
    await client.next("authed", (m) => m.type === "authed");
    client.ws.send(JSON.stringify({ type: "auth", token: tokens.sign({ sub: "p_1", exp: Date.now() + 60_000 }) }));
    await waitFor("second authed", () => client.json().filter((m) => m.type === "authed").length === 2);
    await Bun.sleep(900);
    await h.bus.publish(Channels.betEvents, betEvent("p_1", "b3"));
    await client.next("bet event", isBet("b3"));
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });
});
