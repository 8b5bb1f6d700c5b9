/**
 * PostgreSQL's own CPU per group commit: one connection places `--batches`
 * batches of `--size` bets (fresh players and cells of a database of its own,
 * idempotency keys with `--keys`), one after another, through the store and
 * the exposure gate the API uses, and reads the backend's CPU from /proc
 * (PostgreSQL must run on this machine). Splits a batch's cost into what it
 * costs whatever its size and what each bet adds: run it at two sizes.
 *
 *   bun bench/pg-batch-cost.ts [--size 21] [--batches 400] [--keys] [--sql "DROP INDEX …"]
 *
 * `--sql` runs a statement on the database before the measured batches (an
 * index or trigger dropped, a setting changed) to see what one part costs.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createPgExposure } from "../api/store/pg-exposure.ts";
import { createPostgresStore } from "../api/store/postgres-store.ts";
import { openPostgresStore } from "../common/store/postgres.ts";
import { createTempDatabase } from "../test/support/postgres.ts";

const { values: args } = parseArgs({
  options: {
    size: { type: "string", default: "21" },
    batches: { type: "string", default: "400" },
    keys: { type: "boolean", default: false },
    sql: { type: "string", default: "" },
  },
});
const size = Number(args.size);
const batches = Number(args.batches);
if (!Number.isInteger(size) || size < 1 || !Number.isInteger(batches) || batches < 1) throw new RangeError("--size and --batches are integers ≥ 1");

const PLAYERS = 1000;
const CELLS = 70;
const database = await createTempDatabase("bench_batch");
try {
  const sql = await openPostgresStore(database.url, { max: 1 });
  const exposure = createPgExposure(sql, { maxCellLiabilityCents: 1e12, maxHouseLiabilityCents: 1e13, maxOpenBets: 1e6, lockMs: 2000 });
  const store = createPostgresStore(sql, { secret: "bench-batch-cost-secret-0123456789", exposure });
  const players = Array.from({ length: PLAYERS }, (_, i) => `player-${String(i).padStart(5, "0")}`);
  for (const id of players) await store.players.create(id, 1e9, Date.now());
  if (args.sql) await sql.unsafe(args.sql);
  const [backend] = await sql<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
  /** The backend's user + system CPU in ms (/proc/PID/stat, in 10 ms ticks). */
  const backendCpuMs = () => {
    const fields = readFileSync(`/proc/${backend!.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  const start = Date.now() + 600_000; // windows far ahead: none locks or settles during the run
  let placed = 0;
  const batch = () =>
    Array.from({ length: size }, () => {
      const cell = placed++ % CELLS;
      const tStart = start + Math.floor(cell / 7) * 5000;
      const lowCents = 6_000_000 + (cell % 7) * 1000;
      return {
        id: crypto.randomUUID(),
        playerId: players[Math.floor(Math.random() * PLAYERS)]!,
        stakeCents: 100,
        tStart,
        tEnd: tStart + 5000,
        lowCents,
        highCents: lowCents + 1000,
        multiplierCenti: 250,
        createdAt: Date.now(),
        idempotencyKey: args.keys ? crypto.randomUUID() : null,
      };
    });
  for (let i = 0; i < 50; i++) await store.bets.placeBatch(batch()); // warm: plans cached, as in a running API
  const cpu0 = backendCpuMs();
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) await store.bets.placeBatch(batch());
  const wallMs = performance.now() - t0;
  const cpuMs = backendCpuMs() - cpu0;
  console.log(
    `${batches} batches of ${size}${args.keys ? " with keys" : ""}${args.sql ? ` after ${args.sql}` : ""}: ` +
      `${(wallMs / batches).toFixed(2)} ms a batch, PostgreSQL CPU ${(cpuMs / batches).toFixed(2)} ms a batch, ${((cpuMs * 1000) / batches / size).toFixed(0)} µs a bet`,
  );
  await sql.end();
} finally {
  await database.drop();
}
