/**
 * The settler lease on a real PostgreSQL server (a database of this run's own,
 * dropped after), between two "nodes" (two pools): one holder at a time, a
 * standby taking over when the holder stops, and settlement fenced by the
 * epoch so an ex-holder writes nothing and two settlers pay once.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createSettlerLease, LeaseLostError, type SettlerLease } from "../api/store/settler-lease.ts";
import { createPostgresStore } from "../api/store/postgres-store.ts";
import { type MoneyTables, moneyInvariantsBroken, orderFor } from "../api/store/store.behaviour.ts";
import type { Store } from "../api/store/store.ts";
import type { Decision } from "../api/settlement/settlement-book.ts";
import { openPostgresStore, type PgSql } from "../common/store/postgres.ts";
import { createTempDatabase, postgresMissing, type TempDatabase } from "./support/postgres.ts";

setDefaultTimeout(30_000);

const missing = await postgresMissing();
// CI installs PostgreSQL (scripts/setup.sh): there a missing server is a failure, not a skip.
if (missing && !process.env.CI) console.warn(`test/settler-lease.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, deadlineMs: number, probe: () => T | undefined): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`not within ${deadlineMs} ms: ${what}`);
    await sleep(20);
  }
}

describe.skipIf(!run)("the settler lease", () => {
  let database: TempDatabase;
  let nodeA: PgSql;
  let nodeB: PgSql;
  let players = 0;

  beforeAll(async () => {
    if (missing) throw new Error(`CI must have PostgreSQL: ${missing}`);
    database = await createTempDatabase("tap_test");
    nodeA = await openPostgresStore(database.url, { max: 4, applicationName: "tap-lease-a" });
    nodeB = await openPostgresStore(database.url, { max: 4, applicationName: "tap-lease-b" });
  });

  afterAll(async () => {
    await nodeA?.end({ timeout: 5 });
    await nodeB?.end({ timeout: 5 });
    await database?.drop();
  });

  beforeEach(async () => {
    // Each case starts with a free lease; the epoch only ever grows.
    await nodeA`UPDATE settler_lease SET holder = NULL, expires_at = '-infinity' WHERE id = 1`;
  });

  const leaseRow = async () => {
    const [row] = await nodeA<{ holder: string | null; epoch: number }[]>`SELECT holder, epoch FROM settler_lease WHERE id = 1`;
    return row!;
  };

  /** Lets the current lease run out, as the clock would after the holder's last renewal. */
  const expireLease = () => nodeA`UPDATE settler_lease SET expires_at = clock_timestamp() - interval '1 second' WHERE id = 1`;

  const tables = async (): Promise<MoneyTables> => ({
    players: [...(await nodeA<MoneyTables["players"]>`SELECT id, balance_cents, open_bets FROM players`)],
    ledger: [...(await nodeA<MoneyTables["ledger"]>`SELECT player_id, kind, amount_cents, bet_id FROM ledger`)],
    bets: [...(await nodeA<MoneyTables["bets"]>`SELECT id, player_id, stake_cents, multiplier_centi, status, payout_cents FROM bets`)],
  });

  /** Places `count` bets for a new player through `store` and returns the decisions settling them (won, lost and void in turn). */
  async function openBetsToSettle(store: Store, count: number): Promise<Decision[]> {
    const player = `lease-player-${++players}`;
    await store.players.create(player, 1_000_000, 1);
    const orders = Array.from({ length: count }, (_, i) => orderFor(player, 100 + i, { multiplierCenti: 150 + i }));
    const outcomes = await store.bets.placeBatch(orders);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(orders.map(() => "placed"));
    const ids = new Set(orders.map((order) => order.id));
    const open = (await store.settlement.openBets()).filter((bet) => ids.has(bet.id));
    const outcomesInTurn = ["won", "lost", "void"] as const;
    return open.map((bet, i) => ({ bet, outcome: outcomesInTurn[i % 3]!, at: bet.tEnd }));
  }

  test("two contenders over many rounds: exactly one holds the lease, the one the row names, at one epoch", async () => {
    const a = createSettlerLease(nodeA, { holder: "node-a" });
    const b = createSettlerLease(nodeB, { holder: "node-b" });
    let firstEpoch: number | undefined;
    for (let round = 0; round < 60; round++) {
      // Both nodes go at once, in either order.
      await Promise.all(round % 2 === 0 ? [a.round(), b.round()] : [b.round(), a.round()]);
      const holding = [a, b].filter((lease) => lease.epoch() !== undefined);
      expect(holding).toHaveLength(1);
      const row = await leaseRow();
      expect(row.holder).toBe(holding[0] === a ? "node-a" : "node-b");
      expect(holding[0]!.epoch()).toBe(row.epoch);
      firstEpoch ??= row.epoch;
      // Renewals keep the epoch: no round hands the lease over while the holder is alive.
      expect(row.epoch).toBe(firstEpoch);
    }
    const holder = a.epoch() !== undefined ? a : b;
    await holder.release();
    const other = holder === a ? b : a;
    await other.round();
    expect(other.epoch()).toBe(firstEpoch! + 1);
    await other.release();
  });

  test("the holder stops renewing and its connections die: the standby takes over within 5 s, at a newer epoch", async () => {
    const dying = await openPostgresStore(database.url, { max: 2, applicationName: "tap-lease-dying" });
    const holder = createSettlerLease(dying, { holder: "node-dying" });
    const standby = createSettlerLease(nodeB, { holder: "node-b" });
    expect(await holder.acquire()).toBeDefined();
    const renewedAt = Date.now();
    const held = holder.epoch()!;
    standby.start();
    try {
      await sleep(1500);
      expect(standby.epoch()).toBeUndefined();
      // The holder's process dies: no more renewals, its pool gone.
      const diedAt = Date.now();
      await dying.end({ timeout: 1 });
      const epoch = await waitFor("the standby holds the lease", 5000, () => standby.epoch());
      console.log(`settler lease taken over ${Date.now() - diedAt} ms after the holder died, ${Date.now() - renewedAt} ms after its last renewal (lease 3000 ms, tries every 1000 ms)`);
      expect(epoch).toBeGreaterThan(held);
      expect(await leaseRow()).toEqual({ holder: "node-b", epoch });
    } finally {
      await standby.stop();
      await standby.release();
    }
  });

  test("a stale holder's settlement (old epoch) is refused with LeaseLostError and writes nothing; the new holder's pays", async () => {
    const leaseA = createSettlerLease(nodeA, { holder: "node-a" });
    const leaseB = createSettlerLease(nodeB, { holder: "node-b" });
    const storeA = createPostgresStore(nodeA, { secret: "lease", fenceSettlement: (tx) => leaseA.fence(tx) });
    const storeB = createPostgresStore(nodeB, { secret: "lease", fenceSettlement: (tx) => leaseB.fence(tx) });
    const decisions = await openBetsToSettle(storeA, 6);
    const staleEpoch = (await leaseA.acquire())!;
    // Node A pauses past its lease; node B takes it. A still believes it holds epoch staleEpoch.
    await expireLease();
    expect(await leaseB.acquire()).toBe(staleEpoch + 1);
    expect(leaseA.epoch()).toBe(staleEpoch);
    const before = await tables();
    const judged = { tick: { symbol: "BTC-USD" as const, price: 42_000.5, ts: decisions[0]!.bet.tEnd }, continuous: true };

    const refused = await storeA.settlement.settle(decisions, decisions[0]!.bet.tEnd + 1, judged).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LeaseLostError);
    expect((refused as LeaseLostError).epoch).toBe(staleEpoch);
    expect(await tables()).toEqual(before);
    const [{ ticks }] = await nodeA<[{ ticks: number }]>`SELECT count(*)::int AS ticks FROM ticks WHERE ts = ${judged.tick.ts}`;
    expect(ticks).toBe(0);
    // Its renewal fails too: it learns it lost the lease.
    expect(await leaseA.renew()).toBe(false);
    expect(leaseA.epoch()).toBeUndefined();

    const settled = await storeB.settlement.settle(decisions, decisions[0]!.bet.tEnd + 1, judged);
    expect(settled.map((row) => row.betId).sort()).toEqual(decisions.map(({ bet }) => bet.id).sort());
    expect(moneyInvariantsBroken(await tables())).toEqual([]);
    await leaseB.release();
  });

  test("a holder past its expiry writes nothing even before another node takes the lease", async () => {
    const lease = createSettlerLease(nodeA, { holder: "node-a" });
    const store = createPostgresStore(nodeA, { secret: "lease", fenceSettlement: (tx) => lease.fence(tx) });
    const decisions = await openBetsToSettle(store, 3);
    await lease.acquire();
    await expireLease();
    const before = await tables();
    expect(await store.settlement.settle(decisions, Date.now()).catch((error: unknown) => error)).toBeInstanceOf(LeaseLostError);
    expect(await tables()).toEqual(before);
    // A node that never held the lease is refused as well.
    const never = createSettlerLease(nodeB, { holder: "node-b" });
    const storeB = createPostgresStore(nodeB, { secret: "lease", fenceSettlement: (tx) => never.fence(tx) });
    expect(await storeB.settlement.settle(decisions, Date.now()).catch((error: unknown) => error)).toBeInstanceOf(LeaseLostError);
    expect(await tables()).toEqual(before);
  });

  test("two settlers racing on the same decisions across a handover pay exactly once: one credit per bet", async () => {
    const leaseA = createSettlerLease(nodeA, { holder: "node-a" });
    const leaseB = createSettlerLease(nodeB, { holder: "node-b" });
    const storeA = createPostgresStore(nodeA, { secret: "lease", fenceSettlement: (tx) => leaseA.fence(tx) });
    const storeB = createPostgresStore(nodeB, { secret: "lease", fenceSettlement: (tx) => leaseB.fence(tx) });
    const leases: [SettlerLease, SettlerLease] = [leaseA, leaseB];
    const stores: [Store, Store] = [storeA, storeB];
    let refusedByFence = 0;
    for (let round = 0; round < 12; round++) {
      const [old, next] = round % 2 === 0 ? [0, 1] : [1, 0];
      await leases[next]!.release();
      await nodeA`UPDATE settler_lease SET holder = NULL, expires_at = '-infinity' WHERE id = 1`;
      expect(await leases[old]!.acquire()).toBeDefined();
      const decisions = await openBetsToSettle(stores[old]!, 9);
      // The old holder's lease runs out a few ms from now while it settles; the next takes over and settles the same decisions.
      const runsOutMs = (round % 4) * 15;
      await nodeA`UPDATE settler_lease SET expires_at = clock_timestamp() + ${runsOutMs}::int * interval '1 millisecond' WHERE id = 1`;
      const now = decisions[0]!.bet.tEnd + 1;
      const results = await Promise.allSettled([
        stores[old]!.settlement.settle(decisions, now),
        (async () => {
          await sleep(runsOutMs);
          await waitForLease(leases[next]!);
          return await stores[next]!.settlement.settle(decisions, now);
        })(),
      ]);
      for (const result of results) {
        if (result.status === "rejected") {
          expect(result.reason).toBeInstanceOf(LeaseLostError);
          refusedByFence++;
        }
      }
      const rows = await tables();
      const ids = new Set(decisions.map(({ bet }) => bet.id));
      expect(rows.bets.filter((bet) => ids.has(bet.id) && bet.status === "open")).toEqual([]);
      const credits = rows.ledger.filter((entry) => entry.bet_id !== null && ids.has(entry.bet_id) && entry.kind !== "stake");
      // Won and void bets get one credit each (lost ones none), whoever settled them.
      expect(credits).toHaveLength(decisions.filter(({ outcome }) => outcome !== "lost").length);
      expect(new Set(credits.map((entry) => entry.bet_id)).size).toBe(credits.length);
      expect(moneyInvariantsBroken(rows)).toEqual([]);
    }
    console.log(`settler race: ${refusedByFence} of 12 old holders' settlements refused by the fence`);
    await leaseA.release();
    await leaseB.release();
  });

  async function waitForLease(lease: SettlerLease): Promise<void> {
    const until = Date.now() + 5000;
    while ((await lease.acquire()) === undefined) {
      if (Date.now() > until) throw new Error("the next node never took the lease");
      await sleep(5);
    }
  }
});
