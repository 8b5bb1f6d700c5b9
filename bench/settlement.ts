/**
 * Settlement speed: one tick against 100,000 open bets (target: under 20 ms),
 * through the real book and the real SQLite writes.
 *
 *   node_modules/.bin/bun bench/settlement.ts [--bets 100000] [--rounds 5]
 *
 * Bets are spread over 12 windows × 21 bands like the default grid. Three
 * kinds of tick are timed: one that decides nothing (the index must not scan),
 * one that touches a band (its bets win and are paid in one transaction), and
 * one that closes a window (every remaining bet in it is lost). Each is timed
 * twice, on fresh databases: the book and the SQLite transaction alone, and
 * the whole settler as the API runs it (plus releasing the bets' exposure and
 * publishing one event per settled bet to a private redis-server). WAL
 * checkpoints run in their worker thread, as in the API.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type BetOrder, createBetStore } from "../api/bets/bet-store.ts";
import { createExposure } from "../api/bets/exposure.ts";
import { createPlayerStore } from "../api/players/player-store.ts";
import { createBetEventPublisher } from "../api/settlement/event-publisher.ts";
import { createSettleStore } from "../api/settlement/settle-store.ts";
import { createSettler } from "../api/settlement/settler.ts";
import { createSettlementBook } from "../api/settlement/settlement-book.ts";
import { createRedisBus } from "../common/bus/redis.ts";
import { createLogger } from "../common/log.ts";
import { closeRedis, createRedis } from "../common/redis.ts";
import { startCheckpointer } from "../common/store/checkpointer.ts";
import { openStore } from "../common/store/sqlite.ts";
import { startRedis } from "../test/support/redis-server.ts";

const { values } = parseArgs({ options: { bets: { type: "string", default: "100000" }, rounds: { type: "string", default: "5" } } });
const total = Number(values.bets);
const rounds = Number(values.rounds);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const now = 1_700_000_000_000;
const log = createLogger({ component: "bench", level: "warn" });

/** A database holding `total` open bets, its WAL written back, checkpoints moved to their worker. */
async function openBook() {
  const dir = mkdtempSync(join(tmpdir(), "tap-bench-settle-"));
  const path = join(dir, "bets.db");
  const db = openStore(path);
  const players = createPlayerStore(db);
  for (let p = 0; p < 1000; p++) players.create(`p${p}`, 1e12, 0);
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
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  const checkpointer = startCheckpointer(db, path);
  await checkpointer.ready;
  return {
    db,
    async close() {
      await checkpointer.stop();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const TICKS = [
  // Inside window 1, above every band.
  { name: "no decision", ts: now + 5500, priceCents: 4_300_000 },
  // Down into the top band, 4,210,000–4,211,000.
  { name: "touch (one band)", ts: now + 6000, priceCents: 4_210_500 },
  // The first tick after window 1: the rest of it lost.
  { name: "window close", ts: now + 10_001, priceCents: 4_300_000 },
];
const results = new Map<string, number[]>();
const decided = new Map<string, number>();
const record = (name: string, ms: number) => results.set(name, [...(results.get(name) ?? []), ms]);

const redis = await startRedis();
try {
  for (let round = 0; round < rounds; round++) {
    // The book and its transaction alone.
    {
      const { db, close } = await openBook();
      const store = createSettleStore(db);
      const book = createSettlementBook({ staleMs: 5000, graceMs: 2000, timeoutMs: 60_000 });
      for (const bet of store.openBets()) book.add(bet);
      book.onTick(now + 4000, 4_300_000);
      for (const { name, ts, priceCents } of TICKS) {
        const started = performance.now();
        const decisions = book.onTick(ts, priceCents);
        store.settle(decisions, ts, { tick: { symbol: "BTC-USD", ts, price: priceCents / 100 }, continuous: true });
        record(`${name}: book + SQLite`, performance.now() - started);
        decided.set(name, decisions.length);
      }
      await close();
    }
    // The whole settler, as the API runs it.
    {
      const { db, close } = await openBook();
      const publisher = createRedis(redis.url, log, "commands", { autoPipelining: true });
      const subscriber = createRedis(redis.url, log, "subscriber");
      const bus = createRedisBus({ publisher, subscriber });
      const exposure = createExposure({ maxOpenBets: 1e9, maxCellLiabilityCents: 1e15, maxHouseLiabilityCents: 1e15 });
      exposure.loadOpen(createSettleStore(db).openBets());
      const settler = createSettler({
        book: createSettlementBook({ staleMs: 5000, graceMs: 2000, timeoutMs: 60_000 }),
        store: createSettleStore(db),
        exposure,
        events: createBetEventPublisher({ bus, log }),
        log,
        now: () => now,
      });
      settler.load();
      settler.onTick({ tick: { symbol: "BTC-USD", ts: now + 4000, price: 43_000 }, continuous: false });
      for (const { name, ts, priceCents } of TICKS) {
        const started = performance.now();
        settler.onTick({ tick: { symbol: "BTC-USD", ts, price: priceCents / 100 }, continuous: true });
        // The events go out at the end of the job (a microtask queued before this await resumes).
        await Promise.resolve();
        record(`${name}: whole settler`, performance.now() - started);
        // The published events drain before the next tick, as they would between ticks.
        await publisher.ping();
      }
      await bus.close();
      await closeRedis(publisher);
      await close();
    }
  }
} finally {
  await redis.stop();
}
console.log(`settlement, ${total} open bets, ${rounds} rounds (median / worst ms):`);
for (const [name, times] of results) {
  const tick = name.split(":")[0]!;
  console.log(`  ${name.padEnd(34)} ${median(times).toFixed(2)} / ${Math.max(...times).toFixed(2)} ms  (${decided.get(tick)} bets)`);
}
