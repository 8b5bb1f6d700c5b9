/**
 * GET /metrics of the API on PostgreSQL (DATABASE_URL), two api nodes as real
 * processes on a database of this run's own: the house's exposure gauges are
 * the database's figures, the same on every node, whichever node took the bets.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import type { GridCell } from "../common/contracts/grid.ts";
import { sampleValue } from "../common/metrics/samples.ts";
import { cellOf, getGrid, newSession, postBet } from "./support/api-client.ts";
import { createTempDatabase, postgresMissing, type TempDatabase } from "./support/postgres.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningApi, startApi } from "./support/service.ts";
import { startTickPump, type TickPump } from "./support/tick-pump.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const missing = await postgresMissing();
if (missing && !process.env.CI) console.warn(`test/metrics-postgres.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

const EXPOSURE = ["tap_exposure_open_bets", "tap_exposure_open_stake_cents", "tap_exposure_potential_payout_cents"] as const;

describe.skipIf(!run)("the API's metrics on PostgreSQL", () => {
  let database: TempDatabase;
  let redis: TestRedis;
  let pump: TickPump;
  let sql: postgres.Sql;
  const nodes: RunningApi[] = [];

  beforeAll(async () => {
    if (missing) throw new Error(`CI must have PostgreSQL: ${missing}`);
    database = await createTempDatabase("tap_metrics");
    redis = await startRedis();
    pump = await startTickPump(redis.url, 42_000);
    sql = postgres(database.url, { max: 1, onnotice: () => {}, types: { bigint: postgres.BigInt } });
    const env = { REDIS_URL: redis.url, DATABASE_URL: database.url, LOG_LEVEL: "warn" };
    // One after the other: the first migrates the database.
    nodes.push(await startApi(env, { grid: true }));
    nodes.push(await startApi(env, { grid: true }));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.stop("SIGKILL")));
    await pump?.stop();
    await redis?.stop();
    await sql?.end({ timeout: 1 });
    await database?.drop();
  });

  const scrape = async (node: RunningApi) => {
    const response = await fetch(`${node.base}/metrics`);
    expect(response.status).toBe(200);
    return await response.text();
  };

  test("every node exports the house's open bets, open stake and potential payout as the database holds them", async () => {
    const [first, second] = nodes as [RunningApi, RunningApi];
    // Before any bet, the database holds no exposure and the gauges say so (a read, not an absent series).
    for (const node of nodes) {
      const text = await scrape(node);
      for (const name of EXPOSURE) expect({ name, value: sampleValue(text, name) }).toEqual({ name, value: 0 });
    }

    // Windows that close well after the test: none settles while it compares.
    const far = (await getGrid(first.base)).cells.filter((c: GridCell) => !c.locked && c.offered && c.multiplier <= 20 && c.t_start - Date.now() > 20_000);
    expect(far.length).toBeGreaterThan(1);
    const players = await Promise.all([newSession(first.base), newSession(second.base), newSession(first.base)]);
    let accepted = 0;
    for (const [i, player] of players.entries()) {
      for (const [j, node] of nodes.entries()) {
        const response = await postBet(node.base, player.token, { amount: 1 + i + 2 * j + 0.37, cell: cellOf(far[(i + j) % far.length]!) });
        if (response.status === 202) accepted++;
        await response.body?.cancel();
      }
    }
    expect(accepted).toBeGreaterThan(3);

    // Each node reads the database at most once a second: wait until it has read since the bets.
    for (const node of nodes) await waitFor("the bets in the node's gauges", async () => sampleValue(await scrape(node), "tap_exposure_open_bets") === accepted);

    // Recomputed from the bets rows, bet by bet, as placement reserves (floor of stake × multiplier).
    const open = await sql<{ stake_cents: bigint; multiplier_centi: bigint }[]>`SELECT stake_cents, multiplier_centi FROM bets WHERE status = 'open'`;
    const held = {
      tap_exposure_open_bets: open.length,
      tap_exposure_open_stake_cents: open.reduce((sum, bet) => sum + Number(bet.stake_cents), 0),
      tap_exposure_potential_payout_cents: open.reduce((sum, bet) => sum + Math.floor((Number(bet.stake_cents) * Number(bet.multiplier_centi)) / 100), 0),
    };
    expect(held.tap_exposure_open_bets).toBe(accepted);
    for (const node of [first, second]) {
      const text = await scrape(node);
      expect(Object.fromEntries(EXPOSURE.map((name) => [name, sampleValue(text, name)]))).toEqual(held);
      expect(text).toContain("every api node reports the same figure");
    }
  });

  test("a bet is counted accepted once, by the node that placed it, whichever node settles; summed over the nodes, every bet once", async () => {
    const [first, second] = nodes as [RunningApi, RunningApi];
    const [lease] = await sql`SELECT holder FROM settler_lease WHERE id = 1`;
    // The holder is named <host>:<pid>:<random> (api/store/open-store.ts).
    const holder = nodes.find((node) => String(lease!.holder).includes(`:${node.proc.pid}:`));
    expect(holder).toBeDefined();
    const other = holder === first ? second : first;
    const counted = async (node: RunningApi) => {
      const text = await scrape(node);
      return { accepted: sampleValue(text, "tap_bets_accepted_total") ?? 0, stakes: sampleValue(text, "tap_stakes_cents_total") ?? 0 };
    };
    const before = { holder: await counted(holder!), other: await counted(other) };
    const session = await newSession(other.base);
    const cell = (await getGrid(other.base)).cells.find((c) => !c.locked && c.offered && c.multiplier <= 20 && c.t_start - Date.now() > 20_000)!;
    const placed = await postBet(other.base, session.token, { amount: 3, cell: cellOf(cell) });
    expect(placed.status).toBe(202);
    await placed.body?.cancel();
    // The holder reads the new bet from the database before it judges the next tick (api/store/pg-open-bets.ts;
    // the pump ticks several times a second), to settle it; it must not count it again.
    await Bun.sleep(1500);
    expect(await counted(other)).toEqual({ accepted: before.other.accepted + 1, stakes: before.other.stakes + 300 });
    expect(await counted(holder!)).toEqual(before.holder);
    // Every bet of this database was placed through these two nodes since they started: the sum is each bet once.
    const [{ n, stakes }] = (await sql`SELECT count(*)::int AS n, sum(stake_cents)::int AS stakes FROM bets`) as unknown as [{ n: number; stakes: number }];
    const [a, b] = [await counted(holder!), await counted(other)];
    expect({ accepted: a.accepted + b.accepted, stakes: a.stakes + b.stakes }).toEqual({ accepted: n, stakes });
    const [onHolder, onOther] = [await scrape(holder!), await scrape(other)];
    expect(sampleValue(onOther, "tap_bets_commit_batch_size_count")).toBeGreaterThan(0);
    expect(sampleValue(onHolder, "tap_bets_commit_batch_size_count")).toBeGreaterThan(0);
  });
});
