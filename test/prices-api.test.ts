import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { PRICE_HISTORY_MAX_LIMIT, type PriceHistory } from "../common/contracts/price-history.ts";
import { freePort } from "./support/ports.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningService, spawnService, waitForHttp } from "./support/service.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

let redis: TestRedis;
let client: Redis;
let api: RunningService;
let base: string;
let dir: string;

/** Ticks every 100 ms over the last 10 minutes, as the price service stores them. */
const now = Date.now();
const stored = Array.from({ length: 6000 }, (_, i) => ({ symbol: "BTC-USD" as const, price: 42_000 + i / 100, ts: now - 600_000 + i * 100 }));

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  const pipeline = client.pipeline();
  for (const tick of stored) pipeline.zadd("prices:btc:usd:ts", tick.ts, JSON.stringify(tick));
  // A member that is not a tick must be skipped, never break the answer.
  pipeline.zadd("prices:btc:usd:ts", now - 1, "garbage");
  await pipeline.exec();
  dir = mkdtempSync(join(tmpdir(), "tap-prices-"));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  api = spawnService("api", { PORT: String(port), REDIS_URL: redis.url, DB_PATH: join(dir, "bets.db") });
  await waitForHttp(`${base}/healthz`);
});

afterAll(async () => {
  client?.disconnect();
  await api?.stop("SIGKILL");
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function history(query: string): Promise<PriceHistory> {
  const response = await fetch(`${base}/api/prices${query}`);
  expect(response.status).toBe(200);
  expect(response.headers.get("cache-control")).toBe("no-store");
  return (await response.json()) as PriceHistory;
}

async function expectRejected(query: string, path: string) {
  const response = await fetch(`${base}/api/prices${query}`);
  expect(response.status).toBe(400);
  const body = (await response.json()) as { error: { code: string; details: { path: string }[]; request_id: string } };
  expect(body.error.code).toBe("validation_failed");
  expect(body.error.request_id).toBe(response.headers.get("x-request-id")!);
  expect(body.error.details).toContainEqual(expect.objectContaining({ path }));
}

describe("GET /api/prices", () => {
  test("returns the ticks in [from, to], oldest first, inclusive at both ends", async () => {
    const from = stored[10]!.ts;
    const to = stored[19]!.ts;
    const body = await history(`?from=${from}&to=${to}`);
    expect(body).toEqual({ symbol: "BTC-USD", from, to, ticks: stored.slice(10, 20), truncated: false });
  });

  test("defaults to the last five minutes, up to the newest 1000 ticks", async () => {
    const body = await history("");
    expect(body.to).toBeGreaterThanOrEqual(now);
    expect(body.to - body.from).toBe(300_000);
    expect(body.ticks).toEqual(stored.slice(-1000));
    expect(body.truncated).toBe(true);
  });

  test("a limit returns the newest ticks of the window, oldest first: ?limit=3 is the last three ticks", async () => {
    const body = await history("?limit=3");
    expect(body.ticks).toEqual(stored.slice(-3));
    expect(body.truncated).toBe(true);
  });

  test("cuts at limit keeping the newest, says so, and older ones follow from the first ts − 1", async () => {
    const from = stored[0]!.ts;
    const to = stored[99]!.ts;
    const last = await history(`?from=${from}&to=${to}&limit=60`);
    expect(last.ticks).toEqual(stored.slice(40, 100));
    expect(last.truncated).toBe(true);
    const earlier = await history(`?from=${from}&to=${last.ticks[0]!.ts - 1}&limit=60`);
    expect(earlier.ticks).toEqual(stored.slice(0, 40));
    expect(earlier.truncated).toBe(false);
  });

  test("answers the largest limit in full, and an empty window with no ticks", async () => {
    const body = await history(`?from=${now - 600_000}&to=${now}&limit=${PRICE_HISTORY_MAX_LIMIT}`);
    expect(body.ticks).toHaveLength(PRICE_HISTORY_MAX_LIMIT);
    expect(body.ticks.every((tick, i) => i === 0 || tick.ts > body.ticks[i - 1]!.ts)).toBe(true);
    expect((await history(`?from=${now + 10_000}&to=${now + 20_000}`)).ticks).toEqual([]);
  });

  const bad: [string, string, string][] = [
    ["a from that is not a number", "?from=abc", "/from"],
    ["a fractional from", "?from=1.5&to=10", "/from"],
    ["a negative to", "?to=-1", "/to"],
    ["from after to", "?from=2000&to=1000", "/from"],
    ["a window over an hour", `?from=${now - 3_600_001}&to=${now}`, "/to"],
    ["a zero limit", "?limit=0", "/limit"],
    ["a limit over the maximum", `?limit=${PRICE_HISTORY_MAX_LIMIT + 1}`, "/limit"],
    ["an unknown parameter", "?symbol=ETH-USD", "/symbol"],
    ["an empty limit", "?limit=", "/limit"],
  ];
  for (const [what, query, path] of bad) {
    test(`rejects ${what} with 400 naming ${path}`, async () => {
      await expectRejected(query, path);
    });
  }

  test("answers 503 in the error contract while Redis is away, and recovers", async () => {
    client.disconnect();
    const restarting = redis.restart(2000);
    await waitFor("a 503 while Redis is down", async () => {
      const response = await fetch(`${base}/api/prices`);
      if (response.status !== 503) return false;
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("unavailable");
      expect(response.headers.get("retry-after")).toBe("1");
      return true;
    });
    await restarting;
    // The restarted Redis is empty, so the answer is an empty history.
    await waitFor("a 200 after Redis is back", async () => (await fetch(`${base}/api/prices`)).status === 200);
  });
});
