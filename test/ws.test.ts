/**
 * The ws service as a real process against a private redis-server.
 * Tests in the first block share one process and run in order; the last ones
 * restart Redis and stop the service.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Channels, Keys } from "../common/channels.ts";
import type { CompactGrid } from "../common/contracts/grid.ts";
import { compactGrid, expandGrid } from "../common/grid-codec.ts";
import { createLogger } from "../common/log.ts";
import { scrapeValue } from "../common/metrics/samples.ts";
import { createRedis, type Redis } from "../common/redis.ts";
import { connectClient, connectRawClient, type TestClient } from "../ws/_test-client.ts";
import { freePort } from "./support/ports.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningService, spawnService, waitForHttp } from "./support/service.ts";
import { waitFor } from "./support/wait.ts";

// Processes, a Redis restart and heartbeat waits: more than the 5 s default (bunfig's timeout is not applied).
setDefaultTimeout(30_000);

const silent = createLogger({ component: "test", level: "silent" });

let redis: TestRedis;
let publisher: Redis;
const started: RunningService[] = [];

beforeAll(async () => {
  redis = await startRedis();
  publisher = createRedis(redis.url, silent, "test-publisher");
});

afterAll(async () => {
  for (const service of started) await service.stop("SIGKILL");
  publisher.disconnect();
  await redis.stop();
});

async function startWs(env: Record<string, string> = {}) {
  const port = await freePort();
  const service = spawnService("ws", { PORT: String(port), REDIS_URL: redis.url, ...env });
  started.push(service);
  await waitForHttp(`http://127.0.0.1:${port}/healthz`);
  return { service, port, http: `http://127.0.0.1:${port}`, url: `ws://127.0.0.1:${port}/ws` };
}

const tickJson = (price: number, ts = Date.now()) => JSON.stringify({ symbol: "BTC-USD", price, ts });
const isPrice = (price: number) => (m: Record<string, unknown>) => m.type === "price" && m.price === price;

/** Publishes `message` until `client` has a price that matches: its subscription follows the snapshot read. */
async function publishUntil(client: TestClient, message: string, match: (m: Record<string, unknown>) => boolean, timeoutMs = 10_000) {
  return await waitFor(
    `a price on the client after publishing ${message}`,
    async () => {
      await publisher.publish(Channels.priceTicks, message).catch(() => 0);
      await Bun.sleep(20);
      return client.json().find(match);
    },
    timeoutMs,
  );
}

/** One counter or gauge of the service's `GET /metrics` (the Prometheus text format). */
async function metric(http: string, name: string): Promise<number | undefined> {
  return await scrapeValue(`${http}/metrics`, name);
}

describe("ws service", () => {
  let ws: Awaited<ReturnType<typeof startWs>>;
  beforeAll(async () => {
    ws = await startWs();
  });

  test("GET /healthz answers 200 with the component (also under /ws/healthz)", async () => {
    for (const path of ["/healthz", "/ws/healthz"]) {
      const response = await fetch(`${ws.http}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/json");
      expect((await response.json()) as unknown).toEqual({ status: "ok", component: "ws" });
    }
  });

  test("any other path is a 404 in the error contract; /ws without an upgrade is a 426", async () => {
    const missing = await fetch(`${ws.http}/nope`);
    expect(missing.status).toBe(404);
    expect((await missing.json()) as unknown).toMatchObject({ error: { code: "not_found", details: [] } });
    const plain = await fetch(`${ws.http}/ws`);
    expect(plain.status).toBe(426);
    expect(plain.headers.get("content-type")).toBe("application/json");
    expect((await plain.json()) as unknown).toMatchObject({ error: { code: "upgrade_required", details: [] } });
  });

  test("a new client first receives the stored price, then ticks", async () => {
    const ts = Date.now();
    await publisher.set(Keys.latestPrice, tickJson(41234.5, ts));
    await using client = await connectClient(ws.url);
    await client.next("snapshot", (m) => m.type === "price");
    expect(client.json()[0]).toEqual({ type: "price", symbol: "BTC-USD", price: 41234.5, ts });
  });

  test("the connection is logged on open (remote address, id) and on close (code, reason, duration)", async () => {
    const client = await connectClient(ws.url, { "x-forwarded-for": "203.0.113.77" });
    const opened = await ws.service.waitForLog("open", (l) => l.msg === "connection opened" && l.forwarded_for === "203.0.113.77");
    // A copy: Bun's toMatchObject writes matched asymmetric matchers back into the object (oven-sh/bun#3521).
    expect({ ...opened }).toMatchObject({ component: "ws", level: "info", remote: expect.stringContaining("127.0.0.1"), conn: expect.any(String) });
    client.ws.close(4001, "bye now");
    const closed = await ws.service.waitForLog("close", (l) => l.msg === "connection closed" && l.conn === opened.conn);
    expect(closed).toMatchObject({ level: "info", code: 4001, reason: "bye now", closed_by: "peer", duration_ms: expect.any(Number) });
  });

  test("a message that is not a command comes back unchanged, text or binary", async () => {
    await using client = await connectClient(ws.url);
    const texts = ["hello", '{"type":"ping"', '{"type":"hello","x":1}', "[1,2]", "   "];
    for (const text of texts) client.ws.send(text);
    client.ws.send(new Uint8Array([1, 2, 3]));
    await waitFor("all echoes", () => client.received.length >= texts.length + 1);
    const echoes = client.received.filter((m) => !(typeof m === "string" && m.startsWith('{"type":"price"')));
    expect(echoes).toEqual([...texts, new Uint8Array([1, 2, 3])]);
  });

  test('{"type":"ping"} is answered with a pong carrying the server time', async () => {
    await using client = await connectClient(ws.url);
    const before = Date.now();
    client.ws.send('{"type":"ping"}');
    const pong = await client.next("pong", (m) => m.type === "pong");
    expect(Object.keys(pong).sort()).toEqual(["ts", "type"]);
    expect(pong.ts as number).toBeGreaterThanOrEqual(before - 5);
    expect(pong.ts as number).toBeLessThanOrEqual(Date.now() + 5);
  });

  test("a JSON tick published on Redis reaches the client with its own time", async () => {
    await using client = await connectClient(ws.url);
    // Its own time, not the receipt's; newer than the ticks before it, which the bridge requires.
    const ts = Date.now() + 7;
    const price = await publishUntil(client, tickJson(43210.25, ts), isPrice(43210.25));
    expect(price).toEqual({ type: "price", symbol: "BTC-USD", price: 43210.25, ts });
  });

  test('a plain "42012.34" tick reaches the client, stamped on receipt', async () => {
    await using client = await connectClient(ws.url);
    const before = Date.now();
    const price = await publishUntil(client, "42012.34", isPrice(42012.34));
    expect(price).toMatchObject({ type: "price", symbol: "BTC-USD", price: 42012.34 });
    expect(price.ts as number).toBeGreaterThanOrEqual(before - 5);
  });

  test("garbage on the channel is dropped, counted and warned about, and ticks keep flowing", async () => {
    await using client = await connectClient(ws.url);
    await publishUntil(client, tickJson(100.5), isPrice(100.5));
    const dropped = (await metric(ws.http, "tap_ws_ticks_dropped_total")) ?? 0;
    await publisher.publish(Channels.priceTicks, "garbage-Zz9");
    await ws.service.waitForLog("drop warning", (l) => l.level === "warn" && l.sample === "garbage-Zz9");
    expect(await metric(ws.http, "tap_ws_ticks_dropped_total")).toBe(dropped + 1);
    await publishUntil(client, tickJson(100.75), isPrice(100.75));
    expect(client.received.some((m) => typeof m === "string" && m.includes("garbage"))).toBe(false);
    expect(ws.service.proc.exitCode).toBeNull();
  });

  test("unsubscribe stops ticks, subscribe brings them back; an unknown channel is an error, not a close", async () => {
    await using client = await connectClient(ws.url);
    await using witness = await connectClient(ws.url);
    await publishUntil(client, tickJson(200), isPrice(200));
    await publishUntil(witness, tickJson(200), isPrice(200));

    client.ws.send('{"type":"unsubscribe","channel":"prices"}');
    await client.next("unsubscribe ack", (m) => m.type === "unsubscribed" && m.channel === "prices");
    const from = client.received.length;
    // The witness gets both ticks; the unsubscribed client gets neither.
    await publishUntil(witness, tickJson(201), isPrice(201));
    await publishUntil(witness, tickJson(202), isPrice(202));
    expect(client.received.slice(from)).toEqual([]);

    client.ws.send('{"type":"subscribe","channel":"nope"}');
    expect(await client.next("error", (m) => m.type === "error")).toMatchObject({ code: "unknown_channel", channel: "nope" });
    client.ws.send('{"type":"subscribe"}');
    expect(await client.next("bad command", (m) => m.type === "error" && m.code === "bad_command")).toBeDefined();

    client.ws.send('{"type":"subscribe","channel":"prices"}');
    await client.next("subscribe ack", (m) => m.type === "subscribed" && m.channel === "prices", from);
    await publishUntil(client, tickJson(203), isPrice(203));
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  test("a grid subscriber gets the latest grid at once, then each one the API publishes; others get none", async () => {
    // As the API publishes it: compact.
    const grid = (n: number) =>
      JSON.stringify(
        compactGrid({
          ts: n,
          price: 42000,
          price_ts: n,
          sigma: 0.0005,
          quote_id: `q${n}`,
          expires_at: n + 1000,
          column_ms: 5000,
          band: 10,
          lock_ms: 2000,
          house_edge: 0.05,
          min_rtp: 0.9,
          cells: [{ t_start: n, t_end: n + 5000, price_low: 42000, price_high: 42010, multiplier: 2.5, rtp: 0.94, offered: true, locked: false }],
        }),
      );
    await using bystander = await connectClient(ws.url);
    await using client = await connectClient(ws.url);
    client.ws.send('{"type":"subscribe","channel":"grid"}');
    await client.next("grid ack", (m) => m.type === "subscribed" && m.channel === "grid");
    await waitFor("first grid", async () => {
      await publisher.publish(Channels.grid, grid(1));
      await Bun.sleep(20);
      return client.json().some((m) => m.type === "grid");
    });
    await publisher.publish(Channels.grid, "not a grid");
    await publisher.publish(Channels.grid, grid(2));
    const second = await client.next("second grid", (m) => m.type === "grid" && (m.grid as { ts: number }).ts === 2);
    expect(expandGrid(second.grid as CompactGrid).cells).toEqual([{ t_start: 2, t_end: 5002, price_low: 42000, price_high: 42010, multiplier: 2.5, rtp: 0.94, offered: true, locked: false }]);
    expect(bystander.json().some((m) => m.type === "grid")).toBe(false);

    await using late = await connectClient(ws.url);
    late.ws.send('{"type":"subscribe","channel":"grid"}');
    const snapshot = await late.next("latest grid on subscribe", (m) => m.type === "grid");
    expect((snapshot.grid as { ts: number }).ts).toBe(2);
    expect(await metric(ws.http, "tap_ws_grids_dropped_total")).toBeGreaterThanOrEqual(1);

    client.ws.send('{"type":"unsubscribe","channel":"grid"}');
    await client.next("grid unsubscribed", (m) => m.type === "unsubscribed" && m.channel === "grid");
    const from = client.received.length;
    await publisher.publish(Channels.grid, grid(3));
    await late.next("third grid to the subscriber", (m) => m.type === "grid" && (m.grid as { ts: number }).ts === 3);
    expect(client.json().slice(from).some((m) => m.type === "grid")).toBe(false);
  });

  test("a message over 64 KiB closes the connection with 1009; 64 KiB exactly is fine", async () => {
    await using client = await connectClient(ws.url);
    const limit = "x".repeat(64 * 1024);
    client.ws.send(limit);
    await waitFor("the 64 KiB echo", () => client.received.includes(limit));
    client.ws.send(`${limit}x`);
    expect((await client.closed).code).toBe(1009);
  });

  test("Redis restarting: new clients are not hung by the failed snapshot, and ticks flow again without restarting ws", async () => {
    await using before = await connectClient(ws.url);
    await publishUntil(before, tickJson(300), isPrice(300));
    const pid = ws.service.proc.pid;
    const logsBefore = ws.service.logs().length;

    const restarting = redis.restart(2500);
    await waitFor("ws to see redis go", () => ws.service.logs().slice(logsBefore).find((l) => l.msg === "redis error" || l.msg === "redis connection closed"));
    // While Redis is down: the connection opens, answers at once, and the snapshot read gives up.
    await using during = await connectClient(ws.url);
    during.ws.send('{"type":"ping"}');
    await during.next("pong while redis is down", (m) => m.type === "pong", 0, 1000);
    await ws.service.waitForLog("snapshot failure", (l) => l.msg === "could not read the latest price; clients get the next tick");
    await restarting;

    await publishUntil(before, tickJson(301), isPrice(301), 20_000);
    await publishUntil(during, tickJson(302), isPrice(302), 20_000);
    expect(ws.service.proc.pid).toBe(pid);
    expect(ws.service.proc.exitCode).toBeNull();
    expect(ws.service.logs().some((l) => l.msg === "redis reconnected" && l.redis === "subscriber")).toBe(true);
  });

  test("SIGTERM closes clients with 1001 and a reconnect hint, and exits 0", async () => {
    const clients = await Promise.all([connectClient(ws.url), connectClient(ws.url)]);
    await Promise.all(clients.map((client) => publishUntil(client, tickJson(400), isPrice(400))));
    const code = await ws.service.stop("SIGTERM");
    expect(code).toBe(0);
    for (const client of clients) expect(await client.closed).toEqual({ code: 1001, reason: "server restarting: reconnect" });
    expect(ws.service.logs().some((l) => l.msg === "stopped")).toBe(true);
  });
});

describe("ws service: limits, heartbeat, start-up", () => {
  test("a client over its message rate gets an error, then close 1008", async () => {
    const { service, url } = await startWs({ WS_MAX_MESSAGES_PER_S: "5" });
    await using client = await connectClient(url);
    for (let i = 0; i < 20; i++) client.ws.send(`m${i}`);
    expect((await client.closed).code).toBe(1008);
    expect(client.json().find((m) => m.type === "error")).toMatchObject({ code: "rate_limited" });
    expect(client.received.filter((m) => typeof m === "string" && m.startsWith("m")).length).toBeLessThanOrEqual(5);
    expect(await service.stop("SIGINT")).toBe(0);
  });

  test("past WS_MAX_CONNECTIONS an upgrade is refused with 503", async () => {
    const { service, url, http } = await startWs({ WS_MAX_CONNECTIONS: "2" });
    await using a = await connectClient(url);
    await using b = await connectClient(url);
    expect((await fetch(`${http}/ws`)).status).toBe(503);
    await expect(connectClient(url)).rejects.toThrow();
    expect(a.ws.readyState + b.ws.readyState).toBe(2 * WebSocket.OPEN);
    await service.stop();
  });

  test("a peer that stops answering pings is dropped within two ping intervals, even while ticks flow", async () => {
    // WS_IDLE_TIMEOUT_S=2: a ping every second. Bun's own idle timeout would never fire here, ticks re-arm it.
    const { service, url, port } = await startWs({ WS_IDLE_TIMEOUT_S: "2" });
    await using live = await connectClient(url);
    await using dead = await connectRawClient(port);
    const openedAt = Date.now();
    const ticker = setInterval(() => void publisher.publish(Channels.priceTicks, tickJson(500)).catch(() => 0), 100);
    try {
      await waitFor("ticks reaching the silent peer", () => dead.bytes() > 0);
      await dead.closed;
      const droppedAfter = Date.now() - openedAt;
      expect(droppedAfter).toBeLessThan(3500);
      expect(await service.waitForLog("dead close", (l) => l.msg === "connection closed" && l.closed_by === "no answer to pings")).toBeDefined();
      // The client that answers pings (Bun's WebSocket does) outlives several more intervals.
      await Bun.sleep(2500);
      expect(live.ws.readyState).toBe(WebSocket.OPEN);
      expect(live.json().some(isPrice(500))).toBe(true);
    } finally {
      clearInterval(ticker);
    }
    await service.stop();
  });

  test("started while Redis is down, ws waits for it instead of crashing, then delivers ticks", async () => {
    const redisPort = await freePort();
    const port = await freePort();
    const service = spawnService("ws", { PORT: String(port), REDIS_URL: `redis://127.0.0.1:${redisPort}` });
    started.push(service);
    // Past ioredis' retries per command (2): a SUBSCRIBE sent now would have failed for good.
    await waitFor("several failed connection attempts", () => service.logs().filter((l) => l.msg === "redis error" && l.redis === "subscriber").length >= 4);
    expect(service.proc.exitCode).toBeNull();
    const late = Bun.spawn(["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdout: "ignore",
    });
    const latePublisher = createRedis(`redis://127.0.0.1:${redisPort}`, silent, "late-publisher");
    try {
      await waitForHttp(`http://127.0.0.1:${port}/healthz`);
      await using client = await connectClient(`ws://127.0.0.1:${port}/ws`);
      await waitFor("a tick after Redis came up", async () => {
        await latePublisher.publish(Channels.priceTicks, tickJson(600)).catch(() => 0);
        await Bun.sleep(20);
        return client.json().find(isPrice(600));
      });
      expect(await service.stop()).toBe(0);
    } finally {
      latePublisher.disconnect();
      late.kill("SIGKILL");
      await late.exited;
    }
  });

  test("a bad setting stops the service with exit code 78 naming the variable", async () => {
    for (const [name, value] of [["PORT", "abc"], ["WS_IDLE_TIMEOUT_S", "1"], ["WS_SLOW_CLIENT_GRACE_MS", "100"]] as const) {
      const service = spawnService("ws", { [name]: value, REDIS_URL: redis.url });
      started.push(service);
      expect(await service.proc.exited).toBe(78);
      const fatal = await service.waitForLog("fatal", (l) => l.level === "fatal");
      expect(fatal).toMatchObject({ component: "ws", variable: name, value });
      expect(String(fatal.msg)).toContain(name);
    }
  });
});
