/**
 * The store seam's behaviour suite on PostgreSQL (a database of this run's own
 * per case on 127.0.0.1:5432, dropped after), and what only a shared server
 * has: several group commits at once over the same players never overdraw a
 * balance, never lose a bet and never place one Idempotency-Key twice.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { BetOrder, PlaceOutcome } from "../api/bets/bet-store.ts";
import { createPostgresStore } from "../api/store/postgres-store.ts";
import { createSqliteStore } from "../api/store/sqlite-store.ts";
import { describeStoreBehaviour, type MoneyTables, moneyInvariantsBroken, orderFor, type StoreHarness } from "../api/store/store.behaviour.ts";
import type { StoreOptions } from "../api/store/store.ts";
import { openPostgresStore, type PgSql } from "../common/store/postgres.ts";
import { createTempDatabase, postgresMissing } from "./support/postgres.ts";
import { openTempStore } from "./support/temp-db.ts";

setDefaultTimeout(30_000);

const missing = await postgresMissing();
// CI installs PostgreSQL (scripts/setup.sh): there a missing server is a failure, not a skip.
if (missing && !process.env.CI) console.warn(`test/store-behaviour-postgres.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

async function openPostgresHarness(options: StoreOptions, { max = 4 }: { max?: number } = {}): Promise<StoreHarness & { sql: PgSql }> {
  if (missing) throw new Error(`CI must have PostgreSQL: ${missing}`);
  const database = await createTempDatabase("tap_test");
  try {
    const sql = await openPostgresStore(database.url, { max, applicationName: "tap-store-behaviour" });
    return {
      sql,
      store: createPostgresStore(sql, options),
      tables: async (): Promise<MoneyTables> => ({
        players: [...(await sql<MoneyTables["players"]>`SELECT id, balance_cents, open_bets FROM players`)],
        ledger: [...(await sql<MoneyTables["ledger"]>`SELECT player_id, kind, amount_cents, bet_id FROM ledger`)],
        bets: [...(await sql<MoneyTables["bets"]>`SELECT id, player_id, stake_cents, multiplier_centi, status, payout_cents FROM bets`)],
      }),
      close: async () => {
        await sql.end({ timeout: 5 });
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

describe.skipIf(!run)("PostgreSQL", () => {
  describeStoreBehaviour("the PostgreSQL store", (options) => openPostgresHarness(options));

  describe("several group commits at once", () => {
    let harness: StoreHarness;

    beforeAll(async () => {
      harness = await openPostgresHarness({ secret: "concurrency" }, { max: 8 });
    });

    afterAll(async () => {
      await harness?.close();
    });

    test("batches in parallel over the same players never overdraw a balance, never lose a bet, and place each Idempotency-Key once", async () => {
      const { store } = harness;
      const players = Array.from({ length: 3 }, (_, i) => `c${i}`);
      const grants = new Map(players.map((id, i) => [id, 40_000 + i * 10_000]));
      for (const [id, grant] of grants) await store.players.create(id, grant, 1);
      let state = 3;
      const random = (n: number) => {
        state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
        return state % n;
      };
      // 4 rounds of 16 batches at once (on 8 connections), 40 orders each: more stake than the players hold, so
      // refusals happen while other batches debit the same players; every 5th order reuses one of a few keys, so
      // batches race on them.
      const batches: BetOrder[][] = Array.from({ length: 64 }, () =>
        Array.from({ length: 40 }, (_, i) =>
          orderFor(players[random(players.length)]!, 50 + random(400), { idempotencyKey: i % 5 === 0 ? `race-${random(6)}` : null }),
        ),
      );
      const outcomes: PlaceOutcome[] = [];
      for (let round = 0; round < 4; round++) {
        const results = await Promise.all(batches.slice(round * 16, round * 16 + 16).map((batch) => store.bets.placeBatch(batch)));
        outcomes.push(...results.flat());
      }
      const orders = batches.flat();
      expect(outcomes).toHaveLength(orders.length);
      const kinds = new Map<string, number>();
      for (const outcome of outcomes) kinds.set(outcome.kind, (kinds.get(outcome.kind) ?? 0) + 1);
      // The case is only meaningful if the money ran out and keys were replayed while batches ran together.
      expect(kinds.get("insufficient_funds") ?? 0).toBeGreaterThan(0);
      expect(kinds.get("replayed") ?? 0).toBeGreaterThan(0);

      const tables = await harness.tables();
      expect(moneyInvariantsBroken(tables)).toEqual([]);
      // Every bet answered placed is stored, exactly once, as answered; nothing else is.
      const placed = outcomes.flatMap((outcome) => (outcome.kind === "placed" ? [outcome.bet] : []));
      expect(tables.bets.map((bet) => bet.id).sort()).toEqual(placed.map((bet) => bet.id).sort());
      for (const bet of placed) expect(await store.bets.get(bet.player_id, bet.id)).toEqual(bet);
      // One bet per (player, key): a replay names the bet placed with that key.
      const byKey = new Map<string, string>();
      for (const bet of placed) {
        if (bet.idempotency_key === null) continue;
        const key = `${bet.player_id}/${bet.idempotency_key}`;
        expect(byKey.has(key)).toBe(false);
        byKey.set(key, bet.id);
      }
      for (const outcome of outcomes) {
        if (outcome.kind === "replayed") expect(byKey.get(`${outcome.bet.player_id}/${outcome.bet.idempotency_key}`)).toBe(outcome.bet.id);
      }
      // Each balance is its grant less the stakes answered placed, and never went below zero on the way.
      for (const id of players) {
        const staked = placed.filter((bet) => bet.player_id === id).reduce((sum, bet) => sum + bet.stake_cents, 0);
        expect(await store.players.balance(id)).toBe(grants.get(id)! - staked);
      }
      // And each answer's balance after is exact: a player's bets, in the order they debited, step down by their stakes.
      for (const id of players) {
        const steps = placed.filter((bet) => bet.player_id === id).sort((a, b) => b.balance_after_cents - a.balance_after_cents);
        let balance = grants.get(id)!;
        for (const bet of steps) {
          balance -= bet.stake_cents;
          expect(bet.balance_after_cents).toBe(balance);
        }
        expect(balance).toBeGreaterThanOrEqual(0);
      }
      // Settling the same decisions from two callers at once pays each bet once.
      const open = await store.settlement.openBets();
      const decisions = open.map((bet, i) => ({ bet, outcome: (["won", "lost", "void"] as const)[i % 3]!, at: bet.tEnd + 1000 }));
      const [first, second] = await Promise.all([
        store.settlement.settle(decisions, open[0]!.tEnd + 1000),
        store.settlement.settle([...decisions].reverse(), open[0]!.tEnd + 1000),
      ]);
      expect(first!.length + second!.length).toBe(open.length);
      expect(moneyInvariantsBroken(await harness.tables())).toEqual([]);
    });
  });

  test("settling one window while batches for the next are placed, over the same players, pays each bet once and deadlocks nothing", async () => {
    const harness = await openPostgresHarness({ secret: "interleaved" }, { max: 6 });
    try {
      const { store } = harness;
      const players = ["d0", "d1", "d2"];
      for (const id of players) await store.players.create(id, 1_000_000, 1);
      const windowOf = (k: number) => ({ tStart: 1_797_000_000_000 + k * 5000, tEnd: 1_797_000_005_000 + k * 5000 });
      const batchFor = (k: number) => Array.from({ length: 30 }, (_, i) => orderFor(players[i % players.length]!, 10 + i, { ...windowOf(k), multiplierCenti: 101 + i * 7 }));
      await store.bets.placeBatch(batchFor(0));
      const outcomes = ["won", "lost", "void"] as const;
      let settledCount = 0;
      for (let k = 0; k < 10; k++) {
        const window = windowOf(k);
        const open = (await store.settlement.openBets()).filter((bet) => bet.tEnd === window.tEnd);
        const decisions = open.map((bet, i) => ({ bet, outcome: outcomes[(i + k) % 3]!, at: window.tEnd + 100 }));
        const [settled, ...placed] = await Promise.all([
          store.settlement.settle(decisions, window.tEnd + 100),
          store.bets.placeBatch(batchFor(k + 1)),
          store.bets.placeBatch(batchFor(k + 1)),
        ]);
        expect(settled).toHaveLength(open.length);
        settledCount += settled.length;
        expect(placed.flat().every((outcome) => outcome.kind === "placed")).toBe(true);
      }
      const tables = await harness.tables();
      expect(moneyInvariantsBroken(tables)).toEqual([]);
      expect(tables.bets.filter((bet) => bet.status !== "open")).toHaveLength(settledCount);
      expect(settledCount).toBe(30 + 9 * 60);
    } finally {
      await harness.close();
    }
  });

  test("a recovery code issued on SQLite redeems on PostgreSQL from a copy of its row: one hash for both stores", async () => {
    const secret = "shared-session-secret";
    using db = openTempStore();
    const sqlite = createSqliteStore(db, { secret });
    await sqlite.players.create("p1", 0, 1);
    const code = await sqlite.recoveryCodes.issue("p1", 1);
    const { code_hash } = db.query("SELECT code_hash FROM recovery_codes WHERE player_id = 'p1'").get() as { code_hash: string };
    const pg = await openPostgresHarness({ secret });
    try {
      await pg.store.players.create("p1", 0, 1);
      // The row as a move from SQLite would copy it.
      await pg.sql`INSERT INTO recovery_codes (player_id, code_hash, created_at) VALUES ('p1', ${code_hash}, 1)`;
      expect(await pg.store.recoveryCodes.redeem(code.toLowerCase())).toBe("p1");
      expect(await pg.store.recoveryCodes.redeem(code)).toBeUndefined();
    } finally {
      await pg.close();
    }
  });
});
