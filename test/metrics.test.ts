/**
 * GET /metrics on the three services, run as real processes against a real
 * redis-server and SQLite file: the Prometheus text format, the `service`
 * label, the default metrics kept, and the figures moving as the system works.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, statfsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import type { BetAccepted, BetView } from "../common/contracts/bet.ts";
import { DEFAULT_METRICS } from "../common/metrics/registry.ts";
import { parseMetrics, sampleValue } from "../common/metrics/samples.ts";
import { connectClient } from "../ws/_test-client.ts";
import { authed, cellOf, getGrid, newSession, openCell, postBet } from "./support/api-client.ts";
import { freePort } from "./support/ports.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningApi, type RunningService, spawnService, startApi, waitForHttp } from "./support/service.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

let redis: TestRedis;
let dir: string;
let api: RunningApi;
let ws: RunningService;
let price: RunningService;
const urls = { api: "", ws: "", price: "" };

async function scrape(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  return await response.text();
}

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), "tap-metrics-"));
  price = spawnService("price", { REDIS_URL: redis.url, PRICE_INTERVAL_MS: "100" });
  const { port: pricePort } = (await price.waitForLog("health listening", (line) => line.msg === "health listening")) as { port: number };
  urls.price = `http://127.0.0.1:${pricePort}/metrics`;
  const wsPort = await freePort();
  ws = spawnService("ws", { REDIS_URL: redis.url, PORT: String(wsPort) });
  urls.ws = `http://127.0.0.1:${wsPort}/metrics`;
  api = await startApi({ REDIS_URL: redis.url, DB_PATH: join(dir, "bets.db"), STARTING_BALANCE: "50" }, { grid: true });
  urls.api = `${api.base}/metrics`;
  await waitForHttp(`http://127.0.0.1:${wsPort}/healthz`);
}, 60_000);

afterAll(async () => {
  await Promise.all([api?.stop("SIGKILL"), ws?.stop("SIGKILL"), price?.stop("SIGKILL")]);
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("every service's GET /metrics", () => {
  test("is the Prometheus text format, every series labelled with its service, with the default metrics that work under Bun", async () => {
    for (const service of ["api", "ws", "price"] as const) {
      const text = await scrape(urls[service]);
      const samples = parseMetrics(text);
      expect(samples.length).toBeGreaterThan(0);
      expect(samples.filter((sample) => sample.labels.service !== service)).toEqual([]);
      for (const name of DEFAULT_METRICS) expect(text).toContain(`# TYPE ${name} `);
      expect(sampleValue(text, "process_resident_memory_bytes")).toBeGreaterThan(0);
      expect(sampleValue(text, "process_open_fds")).toBeGreaterThan(0);
      // Every connection to Redis is there to count reconnects, none yet.
      expect(samples.filter((sample) => sample.name === "tap_redis_reconnects_total").map((sample) => sample.value)).not.toEqual([]);
      expect(samples.filter((sample) => sample.name === "tap_redis_reconnects_total" && sample.value !== 0)).toEqual([]);
    }
  });

  test("api: a bet accepted and one refused are counted, with the stake, the exposure it holds, its commit and its request by route", async () => {
    const session = await newSession(api.base);
    const before = await scrape(urls.api);
    // The band nearest the price (the lowest multiplier): an edge band can leave the grid when the price
    // moves between reading it and betting (a clean-clone run answered 400 off_grid here once).
    const cell = openCell(await getGrid(api.base), (cells) => cells.toSorted((a, b) => a.multiplier - b.multiplier)[0]);
    const placed = await postBet(api.base, session.token, { amount: 2, cell: cellOf(cell) });
    expect(placed.status).toBe(202);
    const { bet_id, potential_payout } = (await placed.json()) as BetAccepted;
    const refused = await postBet(api.base, session.token, { amount: 5000, cell: cellOf(cell) });
    expect(refused.status).toBe(409);
    await refused.body?.cancel();
    const read = await fetch(`${api.base}/api/bets/${bet_id}`, { headers: authed(session.token) });
    expect(read.status).toBe(200);
    await read.body?.cancel();
    const missing = await fetch(`${api.base}/api/no-such-route/${bet_id}`);
    expect(missing.status).toBe(404);
    await missing.body?.cancel();

    const after = await scrape(urls.api);
    const delta = (name: string, labels: Record<string, string> = {}) => (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
    expect(delta("tap_bets_accepted_total")).toBe(1);
    expect(delta("tap_stakes_cents_total")).toBe(200);
    expect(delta("tap_bets_refused_total", { reason: "stake_out_of_range" })).toBe(1);
    expect(delta("tap_bets_commit_batch_size_count")).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, "tap_exposure_open_bets")).toBe(1);
    expect(sampleValue(after, "tap_exposure_open_stake_cents")).toBe(200);
    expect(sampleValue(after, "tap_exposure_potential_payout_cents")).toBe(Math.round(potential_payout * 100));
    expect(delta("tap_http_request_duration_seconds_count", { method: "POST", route: "/api/bets", status: "202" })).toBe(1);
    expect(delta("tap_http_request_duration_seconds_count", { method: "POST", route: "/api/bets", status: "409" })).toBe(1);
    // The route pattern, never the raw path: one series for every bet's id.
    expect(delta("tap_http_request_duration_seconds_count", { method: "GET", route: "/api/bets/:id", status: "200" })).toBe(1);
    expect(delta("tap_http_request_duration_seconds_count", { method: "GET", route: "unmatched", status: "404" })).toBe(1);
    expect(after).not.toContain(bet_id);
    expect(sampleValue(after, "tap_sqlite_wal_bytes")).toBeGreaterThan(0);
  });

  test("api: a settlement writes its info line (bet, player, outcome, payout) and moves the settled, lag, payout and refund figures by that bet alone", async () => {
    // Every bet of the earlier tests settled first, so the differences below are this bet's.
    await waitFor("no open bet", async () => sampleValue(await scrape(urls.api), "tap_exposure_open_bets") === 0, 30_000, 200);
    const before = await scrape(urls.api);
    const session = await newSession(api.base);
    // The nearest window still open (LOCK_MS is 2 s): it closes, and settles, within seconds.
    const cell = openCell(await getGrid(api.base), (cells) => cells.toSorted((a, b) => a.t_start - b.t_start || a.multiplier - b.multiplier)[0], 3000);
    const placed = await postBet(api.base, session.token, { amount: 2, cell: cellOf(cell) });
    expect(placed.status).toBe(202);
    const { bet_id } = (await placed.json()) as BetAccepted;
    const line = await api.waitForLog("bet settled", (entry) => entry.msg === "bet settled" && entry.bet_id === bet_id, 30_000);
    const after = await scrape(urls.api);
    const response = await fetch(`${api.base}/api/bets/${bet_id}`, { headers: authed(session.token) });
    expect(response.status).toBe(200);
    const bet = (await response.json()) as BetView;
    expect(["won", "lost", "void"]).toContain(bet.status);
    const payoutCents = Math.round(bet.payout * 100);
    expect(line).toMatchObject({ level: "info", component: "api", bet_id, player_id: session.user_id, outcome: bet.status, payout_cents: payoutCents });

    const delta = (name: string, labels: Record<string, string> = {}) => (sampleValue(after, name, labels) ?? 0) - (sampleValue(before, name, labels) ?? 0);
    for (const outcome of ["won", "lost", "void"]) {
      const mine = outcome === bet.status ? 1 : 0;
      expect({ outcome, settled: delta("tap_bets_settled_total", { outcome }), lag: delta("tap_settlement_lag_seconds_count", { outcome }) }).toEqual({ outcome, settled: mine, lag: mine });
    }
    expect(delta("tap_stakes_cents_total")).toBe(200);
    expect(delta("tap_payouts_cents_total")).toBe(payoutCents);
    expect(delta("tap_refunds_cents_total")).toBe(bet.status === "void" ? 200 : 0);
    expect(sampleValue(after, "tap_exposure_open_bets")).toBe(0);
  }, 75_000);

  test("api: the database's filesystem, its size and the space left on it as statfs reads them", async () => {
    const text = await scrape(urls.api);
    const size = sampleValue(text, "tap_db_filesystem_size_bytes");
    const free = sampleValue(text, "tap_db_filesystem_free_bytes");
    const avail = sampleValue(text, "tap_db_filesystem_avail_bytes");
    const disk = statfsSync(dir);
    expect(size).toBe(disk.blocks * disk.bsize);
    // Free space moves as anything on the machine writes: within 1 % of the disk of what statfs reads now.
    expect(Math.abs(free! - disk.bfree * disk.bsize)).toBeLessThan(size! / 100);
    expect(Math.abs(avail! - disk.bavail * disk.bsize)).toBeLessThan(size! / 100);
    expect(avail).toBeLessThanOrEqual(free!);
    expect(free).toBeLessThan(size!);
  });

  test("ws: an open socket and the ticks delivered to it", async () => {
    await using client = await connectClient(urls.ws.replace("http:", "ws:").replace("/metrics", "/ws"));
    await client.next("a price", (message) => message.type === "price");
    const text = await scrape(urls.ws);
    expect(sampleValue(text, "tap_ws_connections")).toBe(1);
    expect(sampleValue(text, "tap_ws_connections_opened_total")).toBeGreaterThanOrEqual(1);
    expect(sampleValue(text, "tap_ws_ticks_published_total")).toBeGreaterThan(0);
    expect((sampleValue(text, "tap_ws_messages_out_total", { kind: "prices" }) ?? 0) + (sampleValue(text, "tap_ws_messages_out_total", { kind: "direct" }) ?? 0)).toBeGreaterThan(0);
  });

  test("price: the ticks it publishes and the age of the last one", async () => {
    const first = sampleValue(await scrape(urls.price), "tap_price_ticks_published_total") ?? 0;
    await waitFor("more ticks", async () => (sampleValue(await scrape(urls.price), "tap_price_ticks_published_total") ?? 0) > first);
    const text = await scrape(urls.price);
    expect(sampleValue(text, "tap_price_last_tick_age_seconds")).toBeGreaterThanOrEqual(0);
    expect(sampleValue(text, "tap_price_status", { status: "ok" })).toBe(1);
  });

  test("a Redis connection killed under a service is counted as a reconnect of its role, in that service", async () => {
    const admin = new Redis(redis.url);
    try {
      // Kills the pub/sub connections (api's and ws's subscribers); commands and the price publisher stay.
      const killed = await admin.call("CLIENT", "KILL", "TYPE", "pubsub");
      expect(Number(killed)).toBeGreaterThanOrEqual(2);
    } finally {
      admin.disconnect();
    }
    for (const service of ["api", "ws"] as const) {
      await waitFor(`${service}'s subscriber reconnected`, async () => sampleValue(await scrape(urls[service]), "tap_redis_reconnects_total", { role: "subscriber" }) === 1);
    }
    expect(sampleValue(await scrape(urls.api), "tap_redis_reconnects_total", { role: "commands" })).toBe(0);
    expect(sampleValue(await scrape(urls.price), "tap_redis_reconnects_total", { role: "publisher" })).toBe(0);
  });
});
