import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { Channels } from "../common/channels.ts";
import type { BusTick } from "../common/contracts/price.ts";
import { Database } from "bun:sqlite";
import { cellOf, getGrid, newSession, postBet } from "./support/api-client.ts";
import { freePort } from "./support/ports.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningApi, type RunningService, spawnService, startApi, waitForHttp } from "./support/service.ts";
import { startBitfinexDouble } from "./support/venues/bitfinex.ts";
import { startBitstampDouble } from "./support/venues/bitstamp.ts";
import { startCoinbaseDouble } from "./support/venues/coinbase.ts";
import type { VenueDoubleApi } from "./support/venues/double-api.ts";
import { startKrakenDouble } from "./support/venues/kraken.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

/**
 * Issue 12 end to end: four venue doubles → `price/main.ts` (PRICE_SOURCE=venues)
 * → Redis → the API's grid. The index is the median of the fresh venues' mids;
 * an outlier is excluded and readmitted; a silent venue is dropped while ticks
 * go on; with every venue silent no tick is made, /healthz says down and the
 * grid stops quoting; with a quorum back, ticks resume.
 */
const NAMES = ["coinbase", "kraken", "bitstamp", "bitfinex"] as const;
type Name = (typeof NAMES)[number];

let redis: TestRedis;
let listener: Redis;
let price: RunningService;
let api: RunningApi;
let healthUrl: string;
let dir: string;
const doubles = {} as Record<Name, VenueDoubleApi>;
/** Each venue's (bid, ask) now; null while the test keeps it silent. */
const book: Record<Name, [number, number] | null> = { coinbase: [42_000, 42_001], kraken: [42_001, 42_002], bitstamp: [42_002, 42_003], bitfinex: [42_003, 42_004] };
const heard: BusTick[] = [];
let pump: ReturnType<typeof setInterval>;

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), "tap-venues-"));
  [doubles.coinbase, doubles.kraken, doubles.bitstamp, doubles.bitfinex] = await Promise.all([
    startCoinbaseDouble(),
    startKrakenDouble(),
    startBitstampDouble(),
    startBitfinexDouble(),
  ]);
  // Every venue quotes its book every 100 ms, as a busy market does.
  pump = setInterval(() => {
    for (const name of NAMES) {
      const quote = book[name];
      if (quote) doubles[name].quote({ bid: quote[0], ask: quote[1], last: quote[0] });
    }
  }, 100);
  listener = new Redis(redis.url);
  listener.on("message", (_channel: string, message: string) => heard.push(JSON.parse(message) as BusTick));
  await listener.subscribe(Channels.priceTicks);
  const port = await freePort();
  healthUrl = `http://127.0.0.1:${port}/healthz`;
  price = spawnService("price", {
    REDIS_URL: redis.url,
    PORT: String(port),
    PRICE_SOURCE: "venues",
    PRICE_INTERVAL_MS: "200",
    PRICE_VENUE_STALE_MS: "1000",
    ...Object.fromEntries(NAMES.map((name) => [`PRICE_VENUE_URL_${name.toUpperCase()}`, doubles[name].url])),
  });
  await waitForHttp(healthUrl);
  api = await startApi({ REDIS_URL: redis.url, DB_PATH: join(dir, "bets.db"), STALE_MS: "1000", SETTLE_GRACE_MS: "500", COLUMN_MS: "1000", LOCK_MS: "500" });
});

afterAll(async () => {
  clearInterval(pump);
  listener?.disconnect();
  await api?.stop("SIGKILL");
  await price?.stop("SIGKILL");
  await Promise.all(NAMES.map((name) => doubles[name]?.stop()));
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The ticks heard after `from`, once `count` of them match. */
async function ticksAfter(from: number, count: number, match: (tick: BusTick) => boolean, what: string) {
  return waitFor(what, () => {
    const found = heard.slice(from).filter(match);
    return found.length >= count ? found : undefined;
  }, 15_000);
}

async function health() {
  const response = await fetch(healthUrl);
  return { code: response.status, body: (await response.json()) as { status: string; venues: Record<string, { state: string }> } };
}

describe("the composite index through the price service", () => {
  test("every tick is the median of the four venues' mids, made from four venues; /healthz ok; the grid quotes", async () => {
    const [tick] = await ticksAfter(0, 1, (t) => t.venues === 4, "a tick from four venues");
    // Mids 42,000.5 / 42,001.5 / 42,002.5 / 42,003.5: the median is 42,002.
    expect(tick).toMatchObject({ symbol: "BTC-USD", price: 42_002, source: "venues", venues: 4 });
    expect(tick!.dispersion_bps).toBeCloseTo((3 / 42_002) * 10_000, 1);
    await waitFor("health ok", async () => (await health()).body.status === "ok");
    await waitFor("a priced grid", async () => (await fetch(`${api.base}/api/grid`)).status === 200);
  }, 30_000);

  test("an outlier is excluded (the median of the other three), then readmitted when it is back", async () => {
    book.bitfinex = [42_500, 42_501]; // ~118 bps above the others
    const mark = heard.length;
    const [excluded] = await ticksAfter(mark, 1, (t) => t.venues === 3, "a tick without the outlier");
    expect(excluded!.price).toBe(42_001.5);
    expect((await health()).body.venues.bitfinex?.state).toBe("excluded");
    book.bitfinex = [42_003, 42_004];
    const back = heard.length;
    await ticksAfter(back, 1, (t) => t.venues === 4 && t.price === 42_002, "the outlier readmitted");
  }, 30_000);

  test("a silent venue is dropped while ticks go on; every venue silent: no tick, /healthz down, the grid stops quoting; a quorum back: ticks resume", async () => {
    doubles.kraken.silent = true;
    book.kraken = null;
    const mark = heard.length;
    await ticksAfter(mark, 3, (t) => t.venues === 3, "ticks from the three others");
    // A bet on a window that opens after the venues fall silent: nothing observes it, so it is void and refunded.
    const player = await newSession(api.base);
    const grid = await getGrid(api.base);
    const start = grid.cells.map((c) => c.t_start).filter((t) => t - Date.now() >= 2500).sort((a, b) => a - b)[0]!;
    // The band nearest the price: an edge band's multiplier sits near the cap, where a small move stops offering it.
    const mid = (c: (typeof grid.cells)[number]) => (c.price_low + c.price_high) / 2;
    const cell = grid.cells.filter((c) => c.t_start === start && c.offered).sort((a, b) => Math.abs(mid(a) - grid.price) - Math.abs(mid(b) - grid.price))[0]!;
    const placed = await postBet(api.base, player.token, { amount: 1, cell: cellOf(cell) });
    expect({ status: placed.status, body: placed.status === 202 ? "" : await placed.clone().text() }).toEqual({ status: 202, body: "" });
    const { bet_id: betId } = (await placed.json()) as { bet_id: string };
    for (const name of NAMES) {
      doubles[name].silent = true;
      book[name] = null;
    }
    await waitFor("health down", async () => (await health()).code === 503, 15_000);
    const quiet = heard.length;
    await Bun.sleep(1000);
    expect(heard.length - quiet).toBeLessThanOrEqual(1); // at most one tick already on its way
    await waitFor("the grid stops quoting", async () => (await fetch(`${api.base}/api/grid`)).status === 503, 15_000);
    await waitFor("the bet on the unobserved window void", () => {
      const db = new Database(join(dir, "bets.db"), { readonly: true });
      try {
        return (db.query("SELECT status FROM bets WHERE id = ?").get(betId) as { status: string }).status === "void";
      } finally {
        db.close();
      }
    }, 15_000);

    for (const name of ["coinbase", "bitstamp"] as const) {
      doubles[name].silent = false;
      book[name] = name === "coinbase" ? [42_010, 42_011] : [42_012, 42_013];
    }
    const resumed = heard.length;
    const [tick] = await ticksAfter(resumed, 1, (t) => t.venues === 2, "ticks from a quorum of two");
    expect(tick!.price).toBe(42_011.5);
    await waitFor("the grid quotes again", async () => (await fetch(`${api.base}/api/grid`)).status === 200, 15_000);
  }, 60_000);
});
