/**
 * Bun.sql against postgres.js for the money ledger (issue 17), on the machine's
 * PostgreSQL at 127.0.0.1:5432, in a database of its own (`tap_bench_<random>`,
 * dropped at the end) with the real schema (common/store/pg-migrations.ts):
 *
 * - single-row INSERT, autocommit: round trips (each a durable commit) per second;
 * - a group commit: one transaction that locks the batch's players in id order,
 *   then one statement inserting `--batch` bets and their stake ledger rows (the
 *   ledger's trigger moves the balances), COMMIT; per second, p50 and p99;
 *
 * each with 1, 8 and 32 concurrent callers over a pool of `--pool` connections,
 * `--rounds` rounds alternating which client goes first, medians reported.
 * Correctness under load is test/pg-client-torture.test.ts.
 *
 *   bun bench/pg-clients.ts [--seconds 3] [--pool 8] [--batch 100] [--players 1000] [--rounds 2]
 */
import { parseArgs } from "node:util";
import { openPostgresStore } from "../common/store/postgres.ts";
import { createTempDatabase, DRIVER_NAMES, type DriverName, openDriver, type PgDriver, postgresMissing } from "../test/support/postgres.ts";
import { positiveInt } from "./lib/args.ts";
import { describeMachine } from "./lib/machine.ts";
import { median } from "./lib/stats.ts";
import { formatNumber, formatTable } from "./lib/table.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    pool: { type: "string", default: "8" },
    batch: { type: "string", default: "100" },
    players: { type: "string", default: "1000" },
    rounds: { type: "string", default: "2" },
  },
});
const seconds = positiveInt("seconds", args.seconds);
const pool = positiveInt("pool", args.pool);
const batch = positiveInt("batch", args.batch);
const playerCount = positiveInt("players", args.players);
const rounds = positiveInt("rounds", args.rounds);
const CALLERS = [1, 8, 32] as const;

const missing = await postgresMissing();
if (missing) throw new Error(missing);

/** The value at fraction `q` of sorted `values` (nearest rank). */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

interface Figures {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `op` from `callers` concurrent loops for `seconds`; every call is awaited before the figures are taken. */
async function measure(callers: number, op: () => Promise<void>): Promise<Figures> {
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < until) {
        const start = performance.now();
        await op();
        latencies.push(performance.now() - start);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / seconds, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) };
}

const players = Array.from({ length: playerCount }, (_, i) => `p_${String(i).padStart(8, "0")}`);
let tickTs = Date.now() * 1000;

const INSERT_TICK = "INSERT INTO ticks (ts, seq, price, price_cents, continuous, received_at) VALUES ($1::bigint, $2::bigint, $3::float8, $4::bigint, 1, $5::bigint)";

async function insertOneTick(driver: PgDriver): Promise<void> {
  const ts = ++tickTs;
  await driver.query(INSERT_TICK, [ts, ts, 60_000.5, 6_000_050, Date.now()]);
}

const LOCK_PLAYERS = "SELECT id, balance_cents FROM players WHERE id IN (SELECT jsonb_array_elements_text(($1::text)::jsonb)) ORDER BY id FOR UPDATE";
const INSERT_BETS_AND_STAKES = `
  WITH placed AS (
    INSERT INTO bets (id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, created_at, balance_after_cents, idempotency_key)
    SELECT id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, created_at, balance_after_cents, idempotency_key
      FROM jsonb_to_recordset(($1::text)::jsonb) AS b(id text, player_id text, stake_cents bigint, t_start bigint, t_end bigint, price_low_cents bigint,
                                                      price_high_cents bigint, multiplier_centi int, created_at bigint, balance_after_cents bigint, idempotency_key text)
    RETURNING id, player_id, stake_cents, created_at
  )
  INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at)
  SELECT player_id, 'stake', -stake_cents, id, created_at FROM placed`;

/** One group commit of `batch` bets, as the API's batcher would hand it over. */
async function groupCommit(driver: PgDriver): Promise<void> {
  const now = Date.now();
  const tStart = Math.ceil(now / 5000) * 5000 + 60_000;
  const orders = Array.from({ length: batch }, () => ({
    id: Bun.randomUUIDv7(),
    player_id: players[Math.floor(Math.random() * players.length)]!,
    stake_cents: 100,
    t_start: tStart,
    t_end: tStart + 5000,
    price_low_cents: 6_000_000,
    price_high_cents: 6_001_000,
    multiplier_centi: 235,
    created_at: now,
    idempotency_key: null,
  }));
  await driver.transaction(async (tx) => {
    const locked = await tx.query(LOCK_PLAYERS, [JSON.stringify([...new Set(orders.map((order) => order.player_id))])]);
    const balances = new Map(locked.map((row) => [row.id as string, Number(row.balance_cents)]));
    const rows = orders.map((order) => {
      const after = balances.get(order.player_id)! - order.stake_cents;
      balances.set(order.player_id, after);
      return { ...order, balance_after_cents: after };
    });
    await tx.query(INSERT_BETS_AND_STAKES, [JSON.stringify(rows)]);
  });
}

const database = await createTempDatabase("tap_bench");
try {
  const setup = await openPostgresStore(database.url, { max: 1 });
  await setup`INSERT INTO players (id, created_at) SELECT unnest(${players}::text[]), ${Date.now()}`;
  await setup`INSERT INTO ledger (player_id, kind, amount_cents, created_at) SELECT unnest(${players}::text[]), 'grant', 1000000000, ${Date.now()}`;
  const [settings] = await setup`SELECT current_setting('synchronous_commit') AS sync, current_setting('fsync') AS fsync, version() AS version`;
  await setup.end();

  const workloads = { "single-row INSERT": insertOneTick, [`group commit of ${batch} bets`]: groupCommit } as const;
  const results = new Map<string, Figures[]>();
  for (let round = 0; round < rounds; round++) {
    const order: DriverName[] = round % 2 === 0 ? [...DRIVER_NAMES] : [...DRIVER_NAMES].reverse();
    for (const [workload, op] of Object.entries(workloads)) {
      for (const callers of CALLERS) {
        for (const name of order) {
          const driver = openDriver(name, database.url, pool);
          try {
            await op(driver); // connect and prepare outside the measurement
            const key = `${workload}|${callers}|${name}`;
            results.set(key, [...(results.get(key) ?? []), await measure(callers, () => op(driver))]);
          } finally {
            await driver.close();
          }
        }
      }
    }
  }

  const [counts] = await (async () => {
    const check = await openPostgresStore(database.url, { max: 1 });
    try {
      return await check`SELECT (SELECT count(*) FROM bets)::bigint AS bets,
                                (SELECT count(*) FROM players p WHERE p.balance_cents <> (SELECT sum(amount_cents) FROM ledger l WHERE l.player_id = p.id))::bigint AS drifted`;
    } finally {
      await check.end();
    }
  })();

  console.log(describeMachine());
  console.log(`PostgreSQL: ${settings?.version}; synchronous_commit=${settings?.sync}, fsync=${settings?.fsync}`);
  console.log(`${seconds} s per cell, pool of ${pool}, ${rounds} rounds (median), ${playerCount} players\n`);
  const rows: Record<string, string>[] = [];
  for (const workload of Object.keys(workloads)) {
    for (const callers of CALLERS) {
      for (const name of DRIVER_NAMES) {
        const figures = results.get(`${workload}|${callers}|${name}`) ?? [];
        rows.push({
          workload,
          callers: String(callers),
          client: name,
          "per s": formatNumber(median(figures.map((f) => f.perSecond))),
          "p50 ms": formatNumber(median(figures.map((f) => f.p50Ms)), 2),
          "p99 ms": formatNumber(median(figures.map((f) => f.p99Ms)), 2),
        });
      }
    }
  }
  console.log(formatTable(["workload", "callers", "client", "per s", "p50 ms", "p99 ms"], rows));
  console.log(`\nafter the run: ${counts?.bets} bets stored, ${counts?.drifted} players whose balance differs from their ledger`);
} finally {
  await database.drop();
}
