import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Grid } from "../common/contracts/grid.ts";
import { cellOf, getGrid, newSession, postBet } from "./support/api-client.ts";
import { auditMoney, houseBooks } from "./support/money-audit.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningApi, startApi } from "./support/service.ts";
import { startTickPump, type TickPump } from "./support/tick-pump.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const ENV = { COLUMN_MS: "1000", LOCK_MS: "500", STALE_MS: "1000", SETTLE_GRACE_MS: "500", SIGMA_FLOOR: "0.0003", MAX_OPEN_BETS: "1000", BETS_PER_PLAYER_PER_S: "1000" };

let redis: TestRedis;
let pump: TickPump;
let api: RunningApi;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), "tap-random-"));
});
afterAll(async () => {
  await pump?.stop();
  await api?.stop("SIGKILL");
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a random run: balances plus the house's takings equal the grants, and the audit replay agrees", async () => {
  const seed = Number(process.env.RANDOM_RUN_SEED ?? Date.now() % 100_000);
  let state = seed;
  const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);

  pump = await startTickPump(redis.url, 42_000, 60_000); // the test publishes every tick itself
  const dbPath = join(dir, "bets.db");
  api = await startApi({ REDIS_URL: redis.url, DB_PATH: dbPath, LOG_LEVEL: "warn", ...ENV });
  const { base } = api;

  // A random walk, one tick every 100 ms, with occasional jumps across several bands.
  let price = 42_000;
  const walk = setInterval(() => {
    price = Math.round((price + (rand() - 0.5) * 12 + (rand() < 0.05 ? (rand() - 0.5) * 60 : 0)) * 100) / 100;
    void pump.publish(price).catch(() => {});
  }, 100);
  try {
    await waitFor("a priced grid", async () => (await fetch(`${base}/api/grid`)).status === 200);
    const players = await Promise.all(Array.from({ length: 12 }, () => newSession(base)));
    const started = Date.now();
    const firstWindow = Math.ceil(started / 1000) * 1000;
    let accepted = 0;
    const bettingSince = performance.now(); // monotonic: a step of the wall clock must not end the betting
    while (performance.now() - bettingSince < 8000) {
      // On a loaded machine the walk's ticks can stall past STALE_MS: the grid waits for a fresh price, as a player would.
      const grid: Grid = await waitFor("a fresh grid", () => getGrid(base).catch(() => undefined), 5000);
      const open = grid.cells.filter((c) => !c.locked && c.offered && c.multiplier < 100 && c.t_start - Date.now() < 4000);
      await Promise.all(
        players.map(async (player) => {
          const cell = open[Math.floor(rand() * open.length)];
          if (!cell) return;
          const response = await postBet(base, player.token, { amount: Math.round((0.1 + rand() * 5) * 100) / 100, cell: cellOf(cell) });
          if (response.status === 202) accepted++;
          await response.body?.cancel();
        }),
      );
      await Bun.sleep(50);
    }
    expect(accepted).toBeGreaterThan(200);
    const openCount = () => {
      const db = new Database(dbPath, { readonly: true });
      try {
        return (db.query("SELECT count(*) AS n FROM bets WHERE status = 'open'").get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    await waitFor("every bet settled", () => openCount() === 0, 15_000, 100);
    const lastWindowEnd = Math.ceil(Date.now() / 1000) * 1000;

    const db = new Database(dbPath, { readonly: true });
    const { grants, balances, takings } = houseBooks(dbPath);
    const outcomes = db.query("SELECT status, count(*) AS n FROM bets GROUP BY status ORDER BY status").all() as { status: string; n: number }[];
    db.close();
    expect({ seed, sum: balances + takings }).toEqual({ seed, sum: grants });
    expect(outcomes.map((o) => o.status)).toEqual(expect.arrayContaining(["lost", "won"]));
    expect(auditMoney(dbPath)).toMatchObject({ unbalanced: [], betsWithoutStake: [], stakesWithoutBet: 0 });

    const replay = Bun.spawnSync(
      [process.execPath, "api/replay.ts", "--db", dbPath, "--from", String(firstWindow), "--to", String(lastWindowEnd), "--scratch", join(dir, "scratch.db")],
      { cwd: join(import.meta.dir, ".."), env: { PATH: process.env.PATH ?? "", REDIS_URL: redis.url, STALE_MS: ENV.STALE_MS, SETTLE_GRACE_MS: ENV.SETTLE_GRACE_MS } },
    );
    const report = JSON.parse(replay.stdout.toString()) as { bets: number; differences: unknown[] };
    expect({ seed, exit: replay.exitCode, bets: report.bets, differences: report.differences }).toEqual({ seed, exit: 0, bets: accepted, differences: [] });
  } finally {
    clearInterval(walk);
  }
}, 60_000);
