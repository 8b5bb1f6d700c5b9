import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { Channels, Keys } from "../common/channels.ts";
import type { BetAccepted } from "../common/contracts/bet.ts";
import type { Grid, GridCell } from "../common/contracts/grid.ts";
import type { Readiness } from "../common/contracts/health.ts";
import type { BusTick } from "../common/contracts/price.ts";
import { createTickSigner } from "../common/prices/tick-signature.ts";
import { cellOf, getGrid, newSession, postBet } from "./support/api-client.ts";
import { auditMoney } from "./support/money-audit.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { freePort } from "./support/ports.ts";
import { type RunningApi, spawnService, startApi, waitForHttp } from "./support/service.ts";
import { connectClient } from "../ws/_test-client.ts";
import { startTickPump, type TickPump } from "./support/tick-pump.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

/**
 * What settlement believes, against a real API process and redis-server: a tick
 * the subscriber missed is read back, a tick the history lost is a break (void,
 * never lost), and a tick the price service did not sign, or that breaks the
 * bounds, decides nothing.
 */
const KEY = "tick-integrity-test-key-0123456789abcdef";
// A lively volatility, so the bands these tests bet on (up to $100 away, seconds ahead) return enough to be offered (MIN_RTP).
const ENV = { COLUMN_MS: "1000", LOCK_MS: "500", STALE_MS: "1000", SETTLE_GRACE_MS: "500", SIGMA_FLOOR: "0.001", PRICE_SIGNING_KEY: KEY };

let redis: TestRedis | undefined;
let pump: TickPump | undefined;
let api: RunningApi | undefined;
let admin: Redis | undefined;
let dir: string | undefined;

afterEach(async () => {
  await pump?.stop();
  await api?.stop("SIGKILL");
  admin?.disconnect();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  pump = api = admin = redis = dir = undefined;
});

async function setUp() {
  redis = await startRedis();
  admin = new Redis(redis.url);
  admin.on("error", () => {});
  pump = await startTickPump(redis.url, 42_000, 100, { signingKey: KEY });
  dir = mkdtempSync(join(tmpdir(), "tap-integrity-"));
  const dbPath = join(dir, "bets.db");
  api = await startApi({ REDIS_URL: redis.url, DB_PATH: dbPath, ...ENV }, { grid: true });
  return { redis, pump, api, admin, dbPath, base: api.base };
}

function cellAt(grid: Grid, tStart: number, low: number): GridCell {
  const cell = grid.cells.find((c) => c.t_start === tStart && c.price_low === low && c.offered);
  if (!cell) throw new Error(`no offered cell at ${tStart} / ${low}`);
  return cell;
}

/** The first column starting at least `leadMs` from now. */
const nextColumn = (grid: Grid, leadMs = 2500) => grid.cells.map((c) => c.t_start).filter((t) => t - Date.now() >= leadMs).sort((a, b) => a - b)[0] as number;

const untilTime = async (at: number) => {
  const wait = at - Date.now();
  if (wait > 0) await Bun.sleep(wait);
};

function statusOf(dbPath: string, id: string): { status: string; payout_cents: number } {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.query("SELECT status, payout_cents FROM bets WHERE id = ?").get(id) as { status: string; payout_cents: number };
  } finally {
    db.close();
  }
}

async function bet(base: string, token: string, cell: GridCell): Promise<BetAccepted> {
  const response = await postBet(base, token, { amount: 1, cell: cellOf(cell) });
  // The refusal's body says why (not_offered, quote_changed, ...), should a run ever see one.
  if (response.status !== 202) throw new Error(`bet on ${JSON.stringify(cellOf(cell))} refused: ${response.status} ${await response.text()}`);
  return (await response.json()) as BetAccepted;
}

async function readiness(base: string): Promise<Readiness> {
  return (await (await fetch(`${base}/readyz`)).json()) as Readiness;
}

describe("a missed tick", () => {
  test("killed subscriber: the touch it missed is read back from the history and the bet wins", async () => {
    const { pump, admin, dbPath, base, api } = await setUp();
    const player = await newSession(base);
    const grid = await getGrid(base);
    const w = nextColumn(grid);
    const placed = await bet(base, player.token, cellAt(grid, w, 42_030));

    await untilTime(w + 300);
    // The API's subscriber connection is gone when the touch is published; the ticks after it are heard again.
    expect(Number(await admin.call("CLIENT", "KILL", "TYPE", "pubsub"))).toBeGreaterThanOrEqual(1);
    await pump.publish(42_035);
    await pump.publish(42_000);

    await waitFor("the missed touch won", () => statusOf(dbPath, placed.bet_id).status === "won", 10_000);
    expect(statusOf(dbPath, placed.bet_id).payout_cents).toBe(Math.floor((100 * Math.round(placed.multiplier * 100)) / 100));
    await api.waitForLog("the recovery", (l) => l.msg === "recovered ticks from the history" && Number(l.ticks) >= 1);
    expect((await readiness(base)).feed?.recovered).toBeGreaterThanOrEqual(1);
    expect(auditMoney(dbPath)).toMatchObject({ unbalanced: [], betsWithoutStake: [], stakesWithoutBet: 0 });
  }, 30_000);

  test("a tick lost with the history (Redis restarted empty) is a break: the untouched window is void and refunded, not lost", async () => {
    const { redis, pump, admin, dbPath, base, api } = await setUp();
    const player = await newSession(base);
    const grid = await getGrid(base);
    const w = nextColumn(grid);
    const placed = await bet(base, player.token, cellAt(grid, w, 41_950));

    await untilTime(w + 300);
    await admin.call("CLIENT", "KILL", "TYPE", "pubsub");
    await pump.publish(42_001); // published, stored, then lost with Redis
    await redis.restart(100);
    // The pump's numbering goes on; the API hears the next tick and cannot read the one before.
    await waitFor("a tick after the restart", async () => {
      await pump.publish(42_000).catch(() => {});
      return api.logs().some((l) => l.msg === "a break in the ticks: the stretch between is unobserved");
    });

    await waitFor("the window settled", () => statusOf(dbPath, placed.bet_id).status !== "open", 10_000);
    expect(statusOf(dbPath, placed.bet_id)).toEqual({ status: "void", payout_cents: 0 });
    const db = new Database(dbPath, { readonly: true });
    const refund = db.query("SELECT amount_cents FROM ledger WHERE bet_id = ? AND kind = 'refund'").get(placed.bet_id);
    const breaks = db.query("SELECT count(*) AS n FROM ticks WHERE continuous = 0 AND ts > ?").get(w) as { n: number };
    db.close();
    expect(refund).toEqual({ amount_cents: 100 });
    expect(breaks.n).toBeGreaterThanOrEqual(1);
  }, 30_000);
});

describe("forged and out-of-bounds ticks", () => {
  test("unsigned, bare and wrongly signed ticks decide nothing and are counted; a future tick does not freeze the feed; a jump does not straddle", async () => {
    const { pump, admin, dbPath, base, api } = await setUp();
    const player = await newSession(base);
    const grid = await getGrid(base);
    const w = nextColumn(grid);
    const forgedTouch = await bet(base, player.token, cellAt(grid, w, 42_030));
    const jumpedOver = await bet(base, player.token, cellAt(grid, w, 42_100));
    const nextWindow = await bet(base, player.token, cellAt(grid, w + 1000, 41_950));

    await untilTime(w + 200);
    const now = Date.now();
    const inBand: BusTick = { symbol: "BTC-USD", price: 42_035, ts: now, seq: 1 };
    const otherKey = createTickSigner("someone-else-s-key-0123456789abcdefgh");
    const signer = createTickSigner(KEY);
    // Each one reaches the API's subscriber (pub/sub keeps nothing for a subscriber that is reconnecting).
    const heard = (message: string) => waitFor("the API's subscriber to hear it", async () => ((await admin.publish(Channels.priceTicks, message)) >= 1) || undefined, 5000);
    for (const forged of [JSON.stringify(inBand), "42035", JSON.stringify({ ...inBand, sig: otherKey.sign(inBand) })]) {
      await heard(forged);
    }
    // Signed by the key, but an hour ahead, or 5 % away: refused by the bounds.
    const future: BusTick = { symbol: "BTC-USD", price: 42_000, ts: now + 3_600_000, seq: 2 };
    await admin.publish(Channels.priceTicks, JSON.stringify({ ...future, sig: signer.sign(future) }));
    // Newer than any tick the pump has published so far, or it would be dropped as old, not refused.
    const jump: BusTick = { symbol: "BTC-USD", price: 44_100, ts: Date.now() + 20, seq: 3 };
    await admin.publish(Channels.priceTicks, JSON.stringify({ ...jump, sig: signer.sign(jump) }));

    await waitFor("the window decided", () => statusOf(dbPath, forgedTouch.bet_id).status !== "open", 10_000);
    expect(statusOf(dbPath, forgedTouch.bet_id).status).not.toBe("won");
    expect(statusOf(dbPath, jumpedOver.bet_id).status).not.toBe("won");
    // Real ticks went on being judged after the future one: the next window is decided as usual.
    await waitFor("the next window decided", () => statusOf(dbPath, nextWindow.bet_id).status !== "open", 10_000);
    expect(statusOf(dbPath, nextWindow.bet_id).status).toBe("lost");

    const feed = (await readiness(base)).feed;
    expect(feed?.invalid).toBeGreaterThanOrEqual(3);
    expect(feed?.rejected).toMatchObject({ future: 1, jump: 1 });
    expect(feed?.last_tick_age_ms).toBeLessThan(1000);
    expect(api.logs().filter((l) => l.msg === "rejected a tick").map((l) => l.reason)).toEqual(["future", "jump"]);
    // Nothing forged was stored as judged.
    const db = new Database(dbPath, { readonly: true });
    const stored = db.query("SELECT count(*) AS n FROM ticks WHERE price IN (42035, 44100) OR ts > ?").get(Date.now() + 60_000) as { n: number };
    db.close();
    expect(stored.n).toBe(0);
    expect(pump.price).toBe(42_000);
  }, 30_000);
});

describe("stored ticks", () => {
  test("a forged latest price or history entry is not shown by GET /api/price(s): only the price service's signed ticks are", async () => {
    const { pump, admin, base } = await setUp();
    await pump.stop();
    const genuine = (await (await fetch(`${base}/api/prices`)).json()) as { ticks: { ts: number }[] };
    expect(genuine.ticks.length).toBeGreaterThan(0);
    const forged: BusTick = { symbol: "BTC-USD", price: 99_999, ts: Date.now(), seq: 1 };
    const json = JSON.stringify({ ...forged, sig: createTickSigner("someone-else-s-key-0123456789abcdefgh").sign(forged) });
    await admin.set(Keys.latestPrice, json);
    await admin.zadd(Keys.priceHistory, forged.ts, json, forged.ts + 1, JSON.stringify({ ...forged, ts: forged.ts + 1 }));
    const latest = await fetch(`${base}/api/price`);
    expect(latest.status).toBe(503);
    const history = (await (await fetch(`${base}/api/prices`)).json()) as { ticks: { price: number }[] };
    expect(history.ticks.length).toBe(genuine.ticks.length);
    expect(history.ticks.some((t) => t.price === 99_999)).toBe(false);
  }, 30_000);
});

describe("the websocket bridge", () => {
  test("killed subscriber: every tick reaches the client once, in order, the missed ones read back", async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    admin.on("error", () => {});
    pump = await startTickPump(redis.url, 42_000, 60_000, { signingKey: KEY });
    const port = await freePort();
    await using ws = spawnService("ws", { PORT: String(port), REDIS_URL: redis.url, PRICE_SIGNING_KEY: KEY });
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    await using client = await connectClient(`ws://127.0.0.1:${port}/ws`);
    const prices = () => client.json().filter((m) => m.type === "price");
    await waitFor("the client hears ticks", async () => {
      await pump?.publish(42_000);
      return prices().length > 0;
    });

    const published: number[] = [];
    for (let i = 1; i <= 30; i++) {
      if (i % 10 === 5) await admin.call("CLIENT", "KILL", "TYPE", "pubsub");
      await pump.publish(42_000 + i);
      published.push(42_000 + i);
      await Bun.sleep(10);
    }
    await waitFor("the last tick", () => prices().some((m) => m.price === 42_030), 10_000);
    await Bun.sleep(100);
    const heard = prices().map((m) => m.price as number).filter((p) => p > 42_000);
    expect(heard).toEqual(published);
    const stamps = prices().map((m) => m.ts as number);
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
    await ws.waitForLog("the recovery", (l) => l.msg === "recovered ticks from the history" && Number(l.ticks) >= 1);
  }, 30_000);
});
