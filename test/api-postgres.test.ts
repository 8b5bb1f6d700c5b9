/**
 * The API on PostgreSQL (DATABASE_URL), as real processes: the price service,
 * a private redis-server, a database of this run's own. Players bet for a
 * while; the API is killed -9 once mid-load and started again (it waits for
 * the settler lease its dead self held). Afterwards every bet's outcome,
 * payout and credit equal an independent recomputation from the ticks stored
 * beside the bets (test/support/recompute-settlement.ts, from docs/rules.md),
 * and every balance equals its ledger.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import type { Grid } from "../common/contracts/grid.ts";
import type { Readiness } from "../common/contracts/health.ts";
import { cellOf, getGrid, newSession, postBet } from "./support/api-client.ts";
import { createTempDatabase, postgresMissing, type TempDatabase } from "./support/postgres.ts";
import { readPgHistory, settlementDifferences, unbalancedPlayers } from "./support/pg-settlement-check.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningApi, type RunningService, spawnService, startApi } from "./support/service.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test unless given, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const missing = await postgresMissing();
if (missing && !process.env.CI) console.warn(`test/api-postgres.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

const STALE_MS = 1000;
const SETTLE_TIMEOUT_MS = 5000;
const SIGNING_KEY = "api-postgres-test-signing-key-0123456789abcdef";
const ENV = {
  COLUMN_MS: "1000",
  LOCK_MS: "500",
  STALE_MS: String(STALE_MS),
  SETTLE_GRACE_MS: "500",
  SETTLE_TIMEOUT_MS: String(SETTLE_TIMEOUT_MS),
  SIGMA_FLOOR: "0.0003",
  MAX_OPEN_BETS: "100000",
  BETS_PER_PLAYER_PER_S: "1000",
  PRICE_SIGNING_KEY: SIGNING_KEY,
  LOG_LEVEL: "info",
};
const PLAYERS = 8;
const BETTING_MS = 8000;
const MAX_LEAD_MS = 3000;

describe.skipIf(!run)("the API on PostgreSQL", () => {
  let database: TempDatabase;
  let redis: TestRedis;
  let price: RunningService | undefined;
  let api: RunningApi | undefined;
  let sql: postgres.Sql;

  beforeAll(async () => {
    if (missing) throw new Error(`CI must have PostgreSQL: ${missing}`);
    database = await createTempDatabase("tap_api");
    redis = await startRedis();
    sql = postgres(database.url, { max: 2, onnotice: () => {}, types: { bigint: postgres.BigInt } });
  });

  afterAll(async () => {
    await api?.stop("SIGKILL");
    await price?.stop("SIGKILL");
    await sql?.end({ timeout: 1 });
    await redis?.stop();
    await database?.drop();
  });

  const startNode = () => startApi({ REDIS_URL: redis.url, DATABASE_URL: database.url, ...ENV }, { grid: true });

  test("bets placed through a kill -9 and a restart are each stored once and settled exactly as the rules recompute them; every balance is its ledger", async () => {
    price = spawnService("price", { REDIS_URL: redis.url, PRICE_INTERVAL_MS: "100", PRICE_MOCK_VOLATILITY: "0.0003", PRICE_SIGNING_KEY: SIGNING_KEY, LOG_LEVEL: "info" });
    api = await startNode();
    const ready = (await (await fetch(`${api.base}/readyz`)).json()) as Readiness;
    expect(ready.checks.postgres?.ok).toBe(true);
    expect(ready.checks.sqlite).toBeUndefined();

    const players = await Promise.all(Array.from({ length: PLAYERS }, () => newSession(api!.base)));
    const accepted = new Map<string, { player: string; key: string }>();
    const answers: Record<string, number> = {};
    let restarted = false;
    // Timed on the monotonic clock: a step of the wall clock must not end the betting before the restart.
    const started = performance.now();
    let round = 0;
    while (performance.now() - started < BETTING_MS) {
      if (!restarted && performance.now() - started > BETTING_MS / 2) {
        // Crash-only: the replacement rebuilds the book from the database once the dead node's lease expires.
        await api.stop("SIGKILL");
        api = await startNode();
        restarted = true;
      }
      let grid: Grid;
      try {
        grid = await getGrid(api.base);
      } catch {
        await Bun.sleep(100);
        continue;
      }
      const open = grid.cells.filter((c) => !c.locked && c.offered && c.multiplier < 100 && c.t_start - Date.now() < MAX_LEAD_MS);
      round++;
      await Promise.all(
        players.map(async (player, i) => {
          const cell = open[(round * 7 + i * 13) % Math.max(1, open.length)];
          if (!cell) return;
          const key = `r${round}-p${i}`;
          const body = { amount: 1 + ((round + i) % 5), cell: cellOf(cell) };
          const response = await postBet(api!.base, player.token, body, { "idempotency-key": key });
          const answer = String(response.status);
          answers[answer] = (answers[answer] ?? 0) + 1;
          if (response.status !== 202) return void (await response.body?.cancel());
          const { bet_id } = (await response.json()) as { bet_id: string };
          accepted.set(bet_id, { player: player.user_id, key });
          // A retry with the same key (as after a lost answer) is the same bet, never a second stake.
          if (round % 5 === 0) {
            const again = await postBet(api!.base, player.token, body, { "idempotency-key": key });
            expect(again.status).toBe(202);
            expect(((await again.json()) as { bet_id: string }).bet_id).toBe(bet_id);
          }
        }),
      );
      await Bun.sleep(100);
    }
    expect(restarted).toBe(true);
    expect(accepted.size).toBeGreaterThan(20);

    const openBets = async () => Number((await sql`SELECT count(*) AS n FROM bets WHERE status = 'open'`)[0]!.n);
    await waitFor("every bet settled", async () => (await openBets()) === 0, 20_000, 200);

    const history = await readPgHistory(sql);
    const { ticks, bets } = history;

    // Every 202 is stored exactly once; nothing is stored that was not answered 202 (the kill fell between rounds).
    expect(new Set(bets.map((b) => b.id))).toEqual(new Set(accepted.keys()));

    const differences = settlementDifferences(history, { staleMs: STALE_MS, timeoutMs: SETTLE_TIMEOUT_MS });
    expect({ differences: differences.slice(0, 5), count: differences.length }).toEqual({ differences: [], count: 0 });

    expect(await unbalancedPlayers(sql)).toEqual([]);

    const statuses: Record<string, number> = {};
    for (const bet of bets) statuses[bet.status] = (statuses[bet.status] ?? 0) + 1;
    console.log(`api on postgres: ${JSON.stringify({ bets: bets.length, statuses, answers, ticks: ticks.length })}`);
    expect(statuses.won ?? 0).toBeGreaterThan(0);
    expect(statuses.lost ?? 0).toBeGreaterThan(0);
    expect(api.logs().some((line) => line.msg === "settler lease: held")).toBe(true);

    // A SIGTERM drains and gives the lease back: exit 0, and the lease is free for the next node at once.
    expect(await api.stop("SIGTERM")).toBe(0);
    const [lease] = await sql`SELECT holder FROM settler_lease WHERE id = 1`;
    expect(lease!.holder).toBeNull();
  }, 90_000);
});
