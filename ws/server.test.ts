import { describe, expect, test } from "bun:test";
import { type Bus, createMemoryBus } from "../common/bus/mod.ts";
import { Channels } from "../common/channels.ts";
import type { Tick } from "../common/contracts/price.ts";
import { createLogger } from "../common/log.ts";
import { waitFor } from "../test/support/wait.ts";
import { connectClient, connectRawClient } from "./_test-client.ts";
import { startWsServer, type WsLimits, type WsServer } from "./server.ts";

const log = createLogger({ component: "ws", level: "silent" });

interface Harness extends AsyncDisposable {
  bus: Bus;
  server: WsServer;
  url: string;
}

async function serve(latestTick: () => Promise<Tick | undefined>, limits: Partial<WsLimits> = {}): Promise<Harness> {
  const bus = createMemoryBus();
  const server = await startWsServer({ port: 0, hostname: "127.0.0.1", bus, latestTick, log, limits });
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
    for (const price of [2, 3, 4]) await h.bus.publish(Channels.priceTicks, tick(price, 1000 + price));
    await Promise.all(clients.map((client, i) => client.next("price 4", isPrice(4), from[i])));
    expect(h.server.stats().ticks_published - before).toBe(3);
    for (const [i, client] of clients.entries()) {
      // Late copies of the warm-up tick (price 1) may still arrive; the rest must be exactly the three ticks.
      const after = client.received.slice(from[i]).filter((m) => typeof m === "string" && !m.includes('"price":1,'));
      expect(after).toEqual([2, 3, 4].map((p) => `{"type":"price","symbol":"BTC-USD","price":${p},"ts":${1000 + p}}`));
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
