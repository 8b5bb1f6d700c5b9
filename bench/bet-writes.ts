/**
 * What SQLite costs per bet, without HTTP: the bet store's `placeBatch` in a
 * loop on a temp file, as the API's group commit calls it, in CPU time per bet.
 *
 *   bun bench/bet-writes.ts [--bets 100000] [--batch 64] [--players 1000] [--rounds 2]
 *
 * Variants, each on a fresh database: as the schema is; without the
 * `bets_player` index (what a player's bets cost to index with each bet); and
 * with foreign keys off (what their checks cost). Checkpoints run in this
 * thread every 8,192 bets (the API runs them in a worker), so system time
 * includes them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type BetOrder, createBetStore } from "../api/bets/bet-store.ts";
import { createPlayerStore } from "../api/players/player-store.ts";
import { openStore } from "../common/store/sqlite.ts";
import { positiveInt } from "./lib/args.ts";
import { describeMachine } from "./lib/machine.ts";
import { formatTable } from "./lib/table.ts";

const { values: args } = parseArgs({
  options: {
    bets: { type: "string", default: "100000" },
    batch: { type: "string", default: "64" },
    players: { type: "string", default: "1000" },
    rounds: { type: "string", default: "2" },
  },
});
const bets = positiveInt("bets", args.bets);
const batch = positiveInt("batch", args.batch);
const playerCount = positiveInt("players", args.players);
const rounds = positiveInt("rounds", args.rounds);

const VARIANTS = {
  "as is": () => {},
  "without bets_player": (db: ReturnType<typeof openStore>) => db.run("DROP INDEX bets_player"),
  "foreign keys off": (db: ReturnType<typeof openStore>) => db.run("PRAGMA foreign_keys = OFF"),
} as const;

function run(prepare: (db: ReturnType<typeof openStore>) => void): { userUs: number; systemUs: number } {
  const dir = mkdtempSync(join(tmpdir(), "tap-bench-bet-writes-"));
  const db = openStore(join(dir, "bets.db"));
  try {
    prepare(db);
    const players = createPlayerStore(db);
    const ids = Array.from({ length: playerCount }, (_, i) => `p_${String(i).padStart(32, "0")}`);
    for (const id of ids) players.create(id, 1_000_000_000, Date.now());
    const store = createBetStore(db);
    const start = Math.ceil(Date.now() / 5000) * 5000 + 60_000;
    const cpu = process.cpuUsage();
    for (let placed = 0; placed < bets; placed += batch) {
      const orders: BetOrder[] = [];
      for (let i = placed; i < Math.min(bets, placed + batch); i++) {
        const tStart = start + (i % 8) * 5000;
        orders.push({
          id: Bun.randomUUIDv7(),
          playerId: ids[Math.floor(Math.random() * ids.length)]!,
          stakeCents: 100,
          tStart,
          tEnd: tStart + 5000,
          lowCents: 4_200_000,
          highCents: 4_201_000,
          multiplierCenti: 200,
          createdAt: Date.now(),
          idempotencyKey: null,
        });
      }
      store.placeBatch(orders);
      if (placed % 8192 < batch) db.run("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    const used = process.cpuUsage(cpu);
    return { userUs: used.user / bets, systemUs: used.system / bets };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(describeMachine());
console.log(`load:    ${bets} bets in batches of ${batch}, ${playerCount} players, ${rounds} round(s) per variant\n`);
const rows: Record<string, string>[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const [name, prepare] of Object.entries(VARIANTS)) {
    const { userUs, systemUs } = run(prepare);
    rows.push({ round: String(round), variant: name, "user µs/bet": userUs.toFixed(1), "system µs/bet": systemUs.toFixed(1), "CPU µs/bet": (userUs + systemUs).toFixed(1) });
    console.log(`round ${round} ${name.padEnd(20)} ${(userUs + systemUs).toFixed(1)} µs of CPU per bet`);
  }
}
console.log();
console.log(formatTable(["round", "variant", "user µs/bet", "system µs/bet", "CPU µs/bet"], rows));
