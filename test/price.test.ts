import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import pino from "pino";
import { Channels, Keys } from "../common/channels.ts";
import { BusTick, Tick } from "../common/contracts/price.ts";
import { createTickSigner } from "../common/prices/tick-signature.ts";
import { createRedis, type Redis } from "../common/redis.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningService, spawnService } from "./support/service.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const silent = pino({ level: "silent" });
const INTERVAL_MS = 50;

let redis: TestRedis;
let client: Redis;
const running: RunningService[] = [];
const connections: Redis[] = [];

beforeAll(async () => {
  redis = await startRedis();
  client = createRedis(redis.url, silent, "test");
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop("SIGKILL")));
  for (const connection of connections.splice(0)) connection.disconnect();
  await client.flushall().catch(() => {});
});
afterAll(async () => {
  client.disconnect();
  await redis.stop();
});

function startPrice(env: Record<string, string> = {}, url = redis.url): RunningService {
  const service = spawnService("price", { REDIS_URL: url, PRICE_INTERVAL_MS: String(INTERVAL_MS), PRICE_MOCK_SEED: "1", ...env });
  running.push(service);
  return service;
}

/** Every message on the price channel from now on, as raw strings. */
async function listen(): Promise<string[]> {
  const subscriber = createRedis(redis.url, silent, "test-subscriber");
  connections.push(subscriber);
  const heard: string[] = [];
  subscriber.on("message", (channel: string, message: string) => {
    if (channel === Channels.priceTicks) heard.push(message);
  });
  await subscriber.subscribe(Channels.priceTicks);
  return heard;
}

/** The history sorted set as [member, score] pairs, oldest first, read in one command. */
async function history(): Promise<{ member: string; score: number }[]> {
  const flat = await client.zrange(Keys.priceHistory, 0, -1, "WITHSCORES");
  const pairs: { member: string; score: number }[] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push({ member: flat[i] as string, score: Number(flat[i + 1]) });
  return pairs;
}

describe("price service", () => {
  test("publishes JSON ticks, keeps the latest with a TTL and a history trimmed to retention", async () => {
    const heard = await listen();
    const service = startPrice({ PRICE_RETENTION_MS: "400", PRICE_SUMMARY_MS: "250" });

    await waitFor("10 ticks on the channel", () => heard.length >= 10);
    const ticks = heard.map((raw) => JSON.parse(raw) as BusTick);
    for (const [i, tick] of ticks.entries()) {
      expect(Value.Check(Tick, tick)).toBe(true);
      expect(Object.keys(tick)).toEqual(["symbol", "price", "ts", "seq", "source"]);
      expect(tick.source).toBe("mock");
      expect(Number(tick.price.toFixed(2))).toBe(tick.price);
      expect(tick.ts % INTERVAL_MS).toBe(0);
      // Nothing stored to continue: numbered from the first tick's time, then one by one.
      expect(tick.seq).toBe(i === 0 ? tick.ts : ((ticks[i - 1] as BusTick).seq as number) + 1);
      if (i > 0) expect(tick.ts).toBeGreaterThan((ticks[i - 1] as Tick).ts);
    }
    expect(Math.abs((ticks.at(-1) as Tick).ts - Date.now())).toBeLessThan(2000);

    const latest = JSON.parse((await client.get(Keys.latestPrice)) ?? "null") as Tick;
    expect(Value.Check(Tick, latest)).toBe(true);
    expect(latest.ts).toBeGreaterThanOrEqual((ticks.at(-1) as Tick).ts);
    const ttl = await client.ttl(Keys.latestPrice);
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);

    // Run well past the 400 ms retention, then read the history in one go.
    const first = ticks[0] as Tick;
    await waitFor("ticks spanning twice the retention", () => JSON.parse(heard.at(-1) as string).ts - first.ts > 1000);
    const entries = await history();
    expect(entries.length).toBeGreaterThanOrEqual(5);
    expect(entries.length).toBeLessThanOrEqual(400 / INTERVAL_MS + 1);
    expect(new Set(entries.map((e) => e.member)).size).toBe(entries.length);
    for (const { member, score } of entries) {
      const tick = JSON.parse(member) as Tick;
      expect(Value.Check(Tick, tick)).toBe(true);
      expect(tick.ts).toBe(score);
    }
    const oldest = (entries[0] as { score: number }).score;
    const newest = (entries.at(-1) as { score: number }).score;
    expect(oldest).toBeGreaterThan(first.ts); // the early ticks were trimmed
    expect(newest - oldest).toBeLessThanOrEqual(400);
    // What was published in the window is exactly what is stored.
    const publishedInWindow = heard.filter((raw) => {
      const ts = (JSON.parse(raw) as Tick).ts;
      return ts >= oldest && ts <= newest;
    });
    expect(entries.map((e) => e.member)).toEqual(publishedInWindow);

    await service.waitForLog("a debug line per tick", (l) => l.msg === "tick" && l.level === "debug");
    await service.waitForLog("an info summary", (l) => l.msg === "price summary" && l.level === "info" && Number(l.ticks) > 0);
    expect(await service.stop("SIGTERM")).toBe(0);
    expect(service.logs().some((l) => l.msg === "stopped")).toBe(true);
  }, 20_000);

  test("keeps running through a Redis restart: reconnects and resumes, without replaying the outage", async () => {
    const heard = await listen();
    const service = startPrice();
    await waitFor("ticks before the restart", () => heard.length >= 3);

    const downAt = Date.now();
    await redis.restart(600);
    const upAt = Date.now();
    const mark = heard.length;
    await service.waitForLog("reconnected", (l) => l.msg === "redis reconnected");
    await waitFor("ticks after the restart", () => heard.length >= mark + 5);
    await waitFor("the latest price stored again", () => client.get(Keys.latestPrice));
    expect(service.proc.exitCode).toBeNull();

    const logs = service.logs();
    expect(logs.some((l) => l.msg === "skipping ticks" && l.reason === "disconnected")).toBe(true);
    expect(logs.some((l) => l.msg === "ticks resumed" && l.reason === "disconnected" && Number(l.skipped) > 0)).toBe(true);
    // Redis came back empty: a tick stamped inside the outage would have been queued and replayed.
    const replayed = (await history()).filter((e) => e.score > downAt + 2 * INTERVAL_MS && e.score < upAt - 2 * INTERVAL_MS);
    expect(replayed).toEqual([]);
    const after = heard.slice(mark).map((raw) => JSON.parse(raw) as Tick);
    for (let i = 1; i < after.length; i++) expect((after[i] as Tick).ts).toBeGreaterThan((after[i - 1] as Tick).ts);

    expect(await service.stop("SIGTERM")).toBe(0);
  }, 20_000);

  test("a restart continues the stored sequence and price: no jump, no new numbering", async () => {
    const heard = await listen();
    const first = startPrice({ PRICE_MOCK_START: "42000", PRICE_MOCK_VOLATILITY: "0.002" });
    await waitFor("ticks from the first run", () => heard.length >= 20);
    expect(await first.stop("SIGKILL")).not.toBe(0);
    const before = JSON.parse((await client.zrange(Keys.priceHistory, -1, -1))[0] as string) as BusTick;
    const mark = heard.length;
    // A different seed and start: only the stored tick can make the second run continue.
    const second = startPrice({ PRICE_MOCK_START: "10000", PRICE_MOCK_SEED: "99", PRICE_MOCK_VOLATILITY: "0.002" });
    await waitFor("ticks from the second run", () => heard.length >= mark + 3);
    const resumed = JSON.parse(heard[mark] as string) as BusTick;
    expect(resumed.seq).toBe((before.seq as number) + 1);
    expect(resumed.ts).toBeGreaterThan(before.ts);
    // One step of the walk (0.2 % per tick), not a jump back to the configured start.
    expect(Math.abs(resumed.price / before.price - 1)).toBeLessThan(0.002 * 6);
    await second.waitForLog("the continuation", (l) => l.msg === "continuing from the stored newest tick" && l.seq === before.seq);
  }, 20_000);

  test("with a signing key, every tick is signed by it", async () => {
    const key = "price-test-signing-key-0123456789abcdef";
    const heard = await listen();
    startPrice({ PRICE_SIGNING_KEY: key });
    await waitFor("ticks", () => heard.length >= 3);
    const signer = createTickSigner(key);
    for (const raw of heard) expect(signer.verify(JSON.parse(raw) as BusTick)).toBe(true);
  }, 20_000);

  test("SIGINT stops it with exit 0", async () => {
    const service = startPrice();
    await service.waitForLog("first tick", (l) => l.msg === "tick");
    expect(await service.stop("SIGINT")).toBe(0);
  }, 20_000);

  test("SIGTERM while Redis is down still exits 0, promptly", async () => {
    const doomed = await startRedis();
    const service = startPrice({}, doomed.url);
    await service.waitForLog("first tick", (l) => l.msg === "tick");
    await doomed.stop();
    await service.waitForLog("skipping ticks", (l) => l.msg === "skipping ticks" && l.reason === "disconnected");
    const started = Date.now();
    expect(await service.stop("SIGTERM")).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  }, 20_000);

  test("a bad setting exits 78 naming the variable and the value", async () => {
    for (const [name, value] of [
      ["PRICE_INTERVAL_MS", "abc"],
      ["PRICE_INTERVAL_MS", "0"],
      ["PRICE_SOURCE", "binance"],
      ["PRICE_VENUES", "coinbase,binance"],
      ["PRICE_VENUE_URL_KRAKEN", "http://127.0.0.1:1"],
      ["PRICE_MIN_VENUES", "9"],
    ] as const) {
      const service = startPrice({ [name]: value });
      expect(await service.proc.exited).toBe(78);
      const fatal = await service.waitForLog("the fatal line", (l) => l.level === "fatal");
      expect(fatal).toMatchObject({ component: "price", variable: name, value });
      expect(String(fatal.msg)).toContain(`${name}="${value}"`);
    }
  }, 20_000);
});
