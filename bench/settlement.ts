/**
 * Settlement speed: one tick against 100,000 open bets (target: under 20 ms),
 * through the real book and the real SQLite writes.
 *
 *   node_modules/.bin/bun bench/settlement.ts [--bets 100000] [--rounds 5]
 *
 * Bets are spread over 12 windows × 21 bands like the default grid. Three
 * kinds of tick are timed: one that decides nothing (the index must not scan),
 * one that touches a band (its bets win and are paid in one transaction), and
 * one that closes a window (every remaining bet in it is lost). WAL checkpoints
 * run in their worker thread, as in the API.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type BetOrder, createBetStore } from "../api/bets/bet-store.ts";
import { createPlayerStore } from "../api/players/player-store.ts";
import { createSettleStore } from "../api/settlement/settle-store.ts";
import { createSettlementBook } from "../api/settlement/settlement-book.ts";
import { startCheckpointer } from "../common/store/checkpointer.ts";
import { openStore } from "../common/store/sqlite.ts";

const { values } = parseArgs({ options: { bets: { type: "string", default: "100000" }, rounds: { type: "string", default: "5" } } });
const total = Number(values.bets);
const rounds = Number(values.rounds);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const results: Record<string, number[]> = { "no decision": [], "touch (one band)": [], "window close": [] };
let decided: Record<string, number> = {};
for (let round = 0; round < rounds; round++) {
  const dir = mkdtempSync(join(tmpdir(), "tap-bench-settle-"));
  const db = openStore(join(dir, "bets.db"));
  const players = createPlayerStore(db);
  for (let p = 0; p < 1000; p++) players.create(`p${p}`, 1e12, 0);
  const now = 1_700_000_000_000;
  const orders: BetOrder[] = [];
  for (let i = 0; i < total; i++) {
    const column = i % 12;
    const row = Math.floor(i / 12) % 21;
    const tStart = now + 5000 + column * 5000;
    orders.push({
      id: `${String(i).padStart(8, "0")}`,
      playerId: `p${i % 1000}`,
      stakeCents: 100,
      tStart,
      tEnd: tStart + 5000,
      lowCents: 4_190_000 + row * 1000,
      highCents: 4_191_000 + row * 1000,
      multiplierCenti: 300,
      createdAt: now,
      idempotencyKey: null,
    });
  }
  const bets = createBetStore(db);
  for (let i = 0; i < orders.length; i += 5000) bets.placeBatch(orders.slice(i, i + 5000));
  // As in production: the loading's WAL written back (untimed), then checkpoints in their worker, not in a commit.
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  const checkpointer = startCheckpointer(db, join(dir, "bets.db"));
  await checkpointer.ready;
  const store = createSettleStore(db);
  const book = createSettlementBook({ staleMs: 5000, graceMs: 2000 });
  for (const bet of store.openBets()) book.add(bet);

  const timed = (name: string, ts: number, priceCents: number) => {
    const started = performance.now();
    const decisions = book.onTick(ts, priceCents);
    store.settle(decisions, ts);
    results[name]!.push(performance.now() - started);
    decided = { ...decided, [name]: decisions.length };
  };
  book.onTick(now + 4000, 4_300_000);
  timed("no decision", now + 5500, 4_300_000); // inside window 1, above every band
  timed("touch (one band)", now + 6000, 4_210_500); // down into the top band, 4,210,000–4,211,000
  timed("window close", now + 10_001, 4_300_000); // first tick after window 1: the rest of it lost
  await checkpointer.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`settlement, ${total} open bets, ${rounds} rounds (median / worst ms, bets decided):`);
for (const [name, times] of Object.entries(results)) {
  console.log(`  ${name.padEnd(18)} ${median(times).toFixed(2)} / ${Math.max(...times).toFixed(2)} ms  (${decided[name]} bets)`);
}
