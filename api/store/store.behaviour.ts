/**
 * One behaviour suite for every `Store` implementation: the same cases, the
 * same expected outcomes, and after each case the money invariants checked
 * on the raw tables, with expected payouts computed here independently of
 * the stores (won = floor(stake × multiplier_centi / 100), void = stake).
 * Run by test/store-behaviour-sqlite.test.ts and test/store-behaviour-postgres.test.ts.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { BetOrder, PlaceOutcome } from "../bets/bet-store.ts";
import type { Disagreement } from "../settlement/settle-store.ts";
import type { Decision, OpenBet } from "../settlement/settlement-book.ts";
import type { Store, StoreOptions } from "./store.ts";

/**
 * The money rows of a store's tables, read raw (not through the store).
 *
 * ```ts
 * const tables: MoneyTables = await harness.tables();
 * ```
 */
export interface MoneyTables {
  /** `open_bets`: PostgreSQL's count of the player's open bets (migration 4), checked against the bets when read. */
  players: { id: string; balance_cents: number; open_bets?: number }[];
  ledger: { player_id: string; kind: string; amount_cents: number; bet_id: string | null }[];
  bets: { id: string; player_id: string; stake_cents: number; multiplier_centi: number; status: string; payout_cents: number }[];
}

/**
 * A store on a fresh, empty database of its own, with raw access to its tables.
 *
 * ```ts
 * const harness: StoreHarness = { store, tables: async () => readTables(db), close: async () => db.close() };
 * ```
 */
export interface StoreHarness {
  store: Store;
  tables(): Promise<MoneyTables>;
  close(): Promise<void>;
}

/**
 * Opens a fresh store for one case.
 *
 * ```ts
 * const open: OpenHarness = async (options) => sqliteHarness(options);
 * ```
 */
export type OpenHarness = (options: StoreOptions) => Promise<StoreHarness>;

/**
 * What a payout must be, computed here rather than by the stores: stake ×
 * multiplier in hundredths, rounded down to the cent.
 *
 * ```ts
 * expectedCredit("won", 333, 275); // 915
 * expectedCredit("void", 333, 275); // 333
 * ```
 */
export function expectedCredit(status: string, stakeCents: number, multiplierCenti: number): number {
  if (status === "won") return Number((BigInt(stakeCents) * BigInt(multiplierCenti)) / 100n);
  if (status === "void") return stakeCents;
  return 0;
}

/**
 * Every money invariant the store must keep, as a list of broken ones (empty
 * when the books balance): each balance equals its ledger and is not
 * negative; each bet has exactly one stake of minus its stake, for its
 * player; each settled bet exactly the one credit its outcome pays (none for
 * a loss or an open bet), with `payout_cents` to match; no entry names a bet
 * that does not exist.
 *
 * ```ts
 * expect(moneyInvariantsBroken(await harness.tables())).toEqual([]);
 * ```
 */
export function moneyInvariantsBroken({ players, ledger, bets }: MoneyTables): string[] {
  const broken: string[] = [];
  const sums = new Map<string, number>();
  for (const entry of ledger) sums.set(entry.player_id, (sums.get(entry.player_id) ?? 0) + entry.amount_cents);
  for (const player of players) {
    const sum = sums.get(player.id) ?? 0;
    if (player.balance_cents !== sum) broken.push(`player ${player.id}: balance ${player.balance_cents} but ledger ${sum}`);
    if (player.balance_cents < 0) broken.push(`player ${player.id}: negative balance ${player.balance_cents}`);
  }
  const openBets = new Map<string, number>();
  for (const bet of bets) if (bet.status === "open") openBets.set(bet.player_id, (openBets.get(bet.player_id) ?? 0) + 1);
  for (const player of players) {
    const open = openBets.get(player.id) ?? 0;
    if (player.open_bets !== undefined && player.open_bets !== open) broken.push(`player ${player.id}: open_bets ${player.open_bets} but ${open} open bets`);
  }
  const byBet = new Map<string, MoneyTables["ledger"]>();
  for (const entry of ledger) {
    if (entry.bet_id === null) continue;
    const entries = byBet.get(entry.bet_id);
    if (entries) entries.push(entry);
    else byBet.set(entry.bet_id, [entry]);
  }
  const betIds = new Set(bets.map((bet) => bet.id));
  for (const betId of byBet.keys()) if (!betIds.has(betId)) broken.push(`ledger names a missing bet ${betId}`);
  for (const bet of bets) {
    const entries = byBet.get(bet.id) ?? [];
    const stakes = entries.filter((entry) => entry.kind === "stake");
    if (stakes.length !== 1 || stakes[0]!.amount_cents !== -bet.stake_cents || stakes[0]!.player_id !== bet.player_id) {
      broken.push(`bet ${bet.id}: stakes ${JSON.stringify(stakes)} for a stake of ${bet.stake_cents}`);
    }
    const credits = entries.filter((entry) => entry.kind === "payout" || entry.kind === "refund");
    const owed = expectedCredit(bet.status, bet.stake_cents, bet.multiplier_centi);
    const kind = bet.status === "won" ? "payout" : "refund";
    const right = owed === 0 ? credits.length === 0 : credits.length === 1 && credits[0]!.kind === kind && credits[0]!.amount_cents === owed && credits[0]!.player_id === bet.player_id;
    if (!right) broken.push(`bet ${bet.id} (${bet.status}, owed ${owed}): credits ${JSON.stringify(credits)}`);
    const payout = bet.status === "won" ? owed : 0;
    if (bet.payout_cents !== payout) broken.push(`bet ${bet.id} (${bet.status}): payout_cents ${bet.payout_cents}, expected ${payout}`);
  }
  return broken;
}

const NOW = 1_797_000_000_000; // 2026-12-10, mid-day UTC
const T_START = NOW + 5000;
const T_END = NOW + 10_000;

let seq = 0;
/**
 * A priced order for the suite's default window (ids increase with each call, so they sort as placed).
 *
 * ```ts
 * const order = orderFor("p1", 500, { multiplierCenti: 275 });
 * ```
 */
export function orderFor(playerId: string, stakeCents: number, extra: Partial<BetOrder> = {}): BetOrder {
  return {
    id: `bet-${String(++seq).padStart(8, "0")}`,
    playerId,
    stakeCents,
    tStart: T_START,
    tEnd: T_END,
    lowCents: 4_200_000,
    highCents: 4_201_000,
    multiplierCenti: 250,
    createdAt: NOW,
    idempotencyKey: null,
    ...extra,
  };
}

const placedBet = (outcome: PlaceOutcome | undefined) => {
  if (outcome?.kind !== "placed") throw new Error(`expected a placed bet, got ${JSON.stringify(outcome)}`);
  return outcome.bet;
};

/**
 * Registers the shared cases under `describe(name)`, each on a store `open` makes fresh.
 *
 * ```ts
 * describeStoreBehaviour("the SQLite store", openSqliteHarness);
 * ```
 */
export function describeStoreBehaviour(name: string, open: OpenHarness): void {
  describe(name, () => {
    let harness: StoreHarness;
    let store: Store;
    let disagreements: Disagreement[];

    beforeEach(async () => {
      disagreements = [];
      harness = await open({ secret: "behaviour-suite-secret", onDisagreement: (window) => disagreements.push(window) });
      store = harness.store;
    });

    afterEach(async () => {
      try {
        expect(moneyInvariantsBroken(await harness.tables())).toEqual([]);
      } finally {
        await harness.close();
      }
    });

    const decide = (bets: readonly OpenBet[], outcomes: Record<string, Decision["outcome"]>, at = T_END + 1000): Decision[] =>
      bets.filter((bet) => outcomes[bet.id] !== undefined).map((bet) => ({ bet, outcome: outcomes[bet.id]!, at }));

    test("a new player holds their grant; an unknown one has no balance", async () => {
      await store.players.create("p1", 100_000, NOW);
      await store.players.create("p0", 0, NOW);
      expect(await store.players.balance("p1")).toBe(100_000);
      expect(await store.players.balance("p0")).toBe(0);
      expect(await store.players.balance("nobody")).toBeUndefined();
      await expect(store.players.create("p1", 5, NOW)).rejects.toThrow();
      expect(await store.players.balance("p1")).toBe(100_000);
    });

    test("a batch is judged order by order: the funds left by earlier orders decide, an unknown player is refused alone", async () => {
      await store.players.create("p1", 1_000, NOW);
      const outcomes = await store.bets.placeBatch([orderFor("p1", 600), orderFor("p1", 600), orderFor("p1", 400), orderFor("nobody", 1)]);
      expect(outcomes.map((o) => o.kind)).toEqual(["placed", "insufficient_funds", "placed", "unknown_player"]);
      expect(outcomes[0]).toMatchObject({ bet: { stake_cents: 600, balance_after_cents: 400, status: "open", payout_cents: 0, settled_at: null } });
      expect(outcomes[1]).toEqual({ kind: "insufficient_funds", balanceCents: 400 });
      expect(outcomes[2]).toMatchObject({ bet: { balance_after_cents: 0 } });
      expect(await store.players.balance("p1")).toBe(0);
      expect(await store.bets.placeBatch([])).toEqual([]);
    });

    test("a placed bet reads back as it was answered, keeping its quote and minimum; someone else's bet is not found", async () => {
      await store.players.create("p1", 10_000, NOW);
      await store.players.create("p2", 10_000, NOW);
      const bet = placedBet((await store.bets.placeBatch([orderFor("p1", 100, { quoteId: "mjuohs00-1", minMultiplierCenti: 243 })]))[0]);
      expect(bet).toMatchObject({ quote_id: "mjuohs00-1", min_multiplier_centi: 243, multiplier_centi: 250, idempotency_key: null });
      expect(await store.bets.get("p1", bet.id)).toEqual(bet);
      expect(await store.bets.get("p2", bet.id)).toBeUndefined();
      expect(await store.bets.get("p1", "no-such-bet")).toBeUndefined();
    });

    test("an Idempotency-Key used again, in a later batch or the same one, replays the first bet and debits once", async () => {
      await store.players.create("p1", 10_000, NOW);
      await store.players.create("p2", 10_000, NOW);
      const first = placedBet((await store.bets.placeBatch([orderFor("p1", 700, { idempotencyKey: "k1" })]))[0]);
      const again = await store.bets.placeBatch([
        orderFor("p1", 700, { idempotencyKey: "k1" }),
        orderFor("p1", 300, { idempotencyKey: "k2" }),
        orderFor("p1", 300, { idempotencyKey: "k2" }),
        // Another player's key of the same text is theirs alone.
        orderFor("p2", 200, { idempotencyKey: "k1" }),
      ]);
      expect(again[0]).toEqual({ kind: "replayed", bet: first });
      const k2 = placedBet(again[1]);
      expect(again[2]).toEqual({ kind: "replayed", bet: k2 });
      expect(placedBet(again[3]).player_id).toBe("p2");
      expect(await store.players.balance("p1")).toBe(10_000 - 700 - 300);
      expect(await store.players.balance("p2")).toBe(9_800);
      expect(await store.bets.byIdempotencyKey("p1", "k2")).toEqual(k2);
      expect(await store.bets.byIdempotencyKey("p1", "k3")).toBeUndefined();
    });

    test("an order the database refuses fails its whole batch, which writes nothing", async () => {
      await store.players.create("p1", 10_000, NOW);
      const good = orderFor("p1", 100);
      // A multiplier below the bet's own minimum: the schema's CHECK.
      await expect(store.bets.placeBatch([good, orderFor("p1", 100, { minMultiplierCenti: 251 })])).rejects.toThrow();
      expect(await store.players.balance("p1")).toBe(10_000);
      expect(await store.bets.get("p1", good.id)).toBeUndefined();
      // Retried alone (as the group committer does), the good one is written.
      expect((await store.bets.placeBatch([good]))[0]?.kind).toBe("placed");
      await expect(store.bets.placeBatch([{ ...orderFor("p1", 50), id: good.id }])).rejects.toThrow();
      expect(await store.players.balance("p1")).toBe(9_900);
    });

    test("a player's bets page newest first by id, after a cursor, optionally of one status", async () => {
      await store.players.create("p1", 10_000, NOW);
      await store.players.create("p2", 10_000, NOW);
      const placed = (await store.bets.placeBatch([1, 2, 3, 4, 5].map((n) => orderFor("p1", n * 10)))).map(placedBet);
      await store.bets.placeBatch([orderFor("p2", 10)]);
      const ids = placed.map((bet) => bet.id).reverse();
      expect((await store.bets.page("p1", { limit: 3 })).map((bet) => bet.id)).toEqual(ids.slice(0, 3));
      expect((await store.bets.page("p1", { before: ids[2]!, limit: 3 })).map((bet) => bet.id)).toEqual(ids.slice(3));
      const open = await store.settlement.openBets();
      await store.settlement.settle(decide(open, { [placed[1]!.id]: "won", [placed[3]!.id]: "void" }), T_END + 1000);
      expect((await store.bets.page("p1", { status: "won", limit: 10 })).map((bet) => [bet.id, bet.status])).toEqual([[placed[1]!.id, "won"]]);
      expect((await store.bets.page("p1", { status: "open", limit: 10 })).map((bet) => bet.id)).toEqual([placed[4]!.id, placed[2]!.id, placed[0]!.id]);
      expect(await store.bets.page("p1", { before: ids.at(-1)!, limit: 10 })).toEqual([]);
    });

    test("settling pays a win (rounded down) and refunds a void, once: settling again pays nothing", async () => {
      await store.players.create("p1", 10_000, NOW);
      const [won, lost, voided] = (
        await store.bets.placeBatch([orderFor("p1", 333, { multiplierCenti: 275 }), orderFor("p1", 1_000), orderFor("p1", 1_000)])
      ).map(placedBet);
      const decisions = decide(await store.settlement.openBets(), { [won!.id]: "won", [lost!.id]: "lost", [voided!.id]: "void" });
      const settled = await store.settlement.settle(decisions, T_END + 1000);
      const afterStakes = 10_000 - 333 - 2_000;
      expect(settled).toEqual([
        { betId: won!.id, playerId: "p1", outcome: "won", payoutCents: 915, balanceCents: afterStakes + 915 },
        { betId: lost!.id, playerId: "p1", outcome: "lost", payoutCents: 0, balanceCents: afterStakes + 915 },
        { betId: voided!.id, playerId: "p1", outcome: "void", payoutCents: 0, balanceCents: afterStakes + 915 + 1_000 },
      ]);
      expect(await store.settlement.settle(decisions, T_END + 2000)).toEqual([]);
      expect(await store.settlement.openBets()).toEqual([]);
      expect(await store.players.balance("p1")).toBe(afterStakes + 915 + 1_000);
      expect(await store.bets.get("p1", won!.id)).toMatchObject({ status: "won", payout_cents: 915, settled_at: T_END + 1000 });
      expect(await store.players.totals("p1")).toEqual({ bets: 3, stakedCents: 2_333, paidOutCents: 1_915 });
    });

    test("open bets rebuild the book; exposure sums what they would pay, each rounded down", async () => {
      await store.players.create("p1", 10_000, NOW);
      const placed = (await store.bets.placeBatch([orderFor("p1", 333, { multiplierCenti: 275 }), orderFor("p1", 101, { multiplierCenti: 199 })])).map(placedBet);
      expect(await store.players.exposure("p1")).toEqual({ openBets: 2, stakedCents: 434, potentialPayoutCents: 915 + 200 });
      expect(await store.players.exposure("nobody")).toEqual({ openBets: 0, stakedCents: 0, potentialPayoutCents: 0 });
      const open = await store.settlement.openBets();
      expect([...open].sort((a, b) => a.id.localeCompare(b.id))).toEqual(
        placed.map((bet) => ({ id: bet.id, playerId: "p1", tStart: T_START, tEnd: T_END, lowCents: 4_200_000, highCents: 4_201_000, stakeCents: bet.stake_cents, multiplierCenti: bet.multiplier_centi })),
      );
    });

    test("a window's losses that are all its open bets are written together; otherwise only the decided ones, and the disagreement is told", async () => {
      await store.players.create("p1", 10_000, NOW);
      const [a, b, c] = (await store.bets.placeBatch([orderFor("p1", 100), orderFor("p1", 100), orderFor("p1", 100)])).map(placedBet);
      const later = placedBet((await store.bets.placeBatch([orderFor("p1", 100, { tStart: T_END, tEnd: T_END + 5000 })]))[0]);
      const open = await store.settlement.openBets();
      const partial = await store.settlement.settle(decide(open, { [a!.id]: "lost" }), T_END + 1000);
      expect(partial.map((s) => s.betId)).toEqual([a!.id]);
      expect(disagreements).toEqual([{ tStart: T_START, tEnd: T_END, book: 1, database: 3 }]);
      expect(await store.bets.get("p1", b!.id)).toMatchObject({ status: "open" });
      const rest = await store.settlement.settle(decide(open, { [b!.id]: "lost", [c!.id]: "lost" }), T_END + 1000);
      expect(rest.map((s) => [s.betId, s.outcome, s.payoutCents, s.balanceCents])).toEqual([
        [b!.id, "lost", 0, 9_600],
        [c!.id, "lost", 0, 9_600],
      ]);
      expect(disagreements).toHaveLength(1);
      expect((await store.settlement.openBets()).map((bet) => bet.id)).toEqual([later.id]);
    });

    test("the oldest open window start is where a replay begins; none once every bet is settled", async () => {
      await store.players.create("p1", 10_000, NOW);
      expect(await store.settlement.oldestOpenStart()).toBeUndefined();
      const [early, late] = (await store.bets.placeBatch([orderFor("p1", 100, { tStart: NOW + 1000, tEnd: NOW + 2000 }), orderFor("p1", 100)])).map(placedBet);
      expect(await store.settlement.oldestOpenStart()).toBe(NOW + 1000);
      await store.settlement.settle(decide(await store.settlement.openBets(), { [early!.id]: "void" }), NOW + 3000);
      expect(await store.settlement.oldestOpenStart()).toBe(T_START);
      await store.settlement.settle(decide(await store.settlement.openBets(), { [late!.id]: "won" }), T_END + 1000);
      expect(await store.settlement.oldestOpenStart()).toBeUndefined();
    });

    test("the judging tick is stored with its settlement, even one that decided nothing, and reads back in time order", async () => {
      await store.players.create("p1", 10_000, NOW);
      const bet = placedBet((await store.bets.placeBatch([orderFor("p1", 100)]))[0]);
      expect(await store.ticks.last()).toBeUndefined();
      const signed = { tick: { symbol: "BTC-USD" as const, price: 42_005.25, ts: T_START + 100, seq: 7, sig: "c2lnbmVk" }, continuous: true };
      const bare = { tick: { symbol: "BTC-USD" as const, price: 42_010.5, ts: T_START + 1100 }, continuous: false };
      expect(await store.settlement.settle([], T_START + 200, signed)).toEqual([]);
      await store.settlement.settle(decide(await store.settlement.openBets(), { [bet.id]: "won" }), T_START + 1200, bare);
      await store.ticks.append({ tick: { symbol: "BTC-USD", price: 42_011, ts: T_START + 2100, seq: 9 }, continuous: true }, T_START + 2200);
      expect(await store.ticks.range(T_START, T_START + 1100)).toEqual([signed, bare]);
      expect(await store.ticks.last()).toEqual({ tick: { symbol: "BTC-USD", price: 42_011, ts: T_START + 2100, seq: 9 }, continuous: true });
      expect(await store.ticks.range(T_START + 3000, T_START + 4000)).toEqual([]);
      // A tick already stored fails the settlement that carries it: nothing of it is written.
      const second = placedBet((await store.bets.placeBatch([orderFor("p1", 100)]))[0]);
      await expect(store.settlement.settle(decide(await store.settlement.openBets(), { [second.id]: "won" }), T_END, bare)).rejects.toThrow();
      expect(await store.bets.get("p1", second.id)).toMatchObject({ status: "open" });
    });

    test("nicknames are unique regardless of case; a player may change the case of their own", async () => {
      await store.players.create("p1", 0, NOW);
      await store.players.create("p2", 0, NOW);
      expect(await store.nicknames.get("p1")).toBeUndefined();
      expect(await store.nicknames.set("p1", "satoshi", NOW)).toBe("ok");
      expect(await store.nicknames.set("p2", "SATOSHI", NOW)).toBe("taken");
      expect(await store.nicknames.set("p1", "Satoshi", NOW)).toBe("ok");
      expect(await store.nicknames.get("p1")).toBe("Satoshi");
      expect(await store.nicknames.get("p2")).toBeUndefined();
      expect(await store.nicknames.set("p2", "hal", NOW)).toBe("ok");
    });

    test("a recovery code redeems once, in any case and grouping; a new one replaces the old", async () => {
      await store.players.create("p1", 0, NOW);
      const first = await store.recoveryCodes.issue("p1", NOW);
      const second = await store.recoveryCodes.issue("p1", NOW + 1);
      expect(await store.recoveryCodes.redeem(first)).toBeUndefined();
      expect(await store.recoveryCodes.redeem(` ${second.toLowerCase().replaceAll("-", " ")} `)).toBe("p1");
      expect(await store.recoveryCodes.redeem(second)).toBeUndefined();
    });

    test("the leaderboard ranks the day's net winnings of nicknamed players, ties by nickname ignoring case, cached for a second", async () => {
      for (const id of ["p1", "p2", "p3", "p4"]) await store.players.create(id, 10_000, NOW);
      await store.nicknames.set("p1", "Zed", NOW);
      await store.nicknames.set("p2", "adam", NOW);
      await store.nicknames.set("p3", "_mid", NOW);
      // p4 has no nickname: not listed.
      const bets = (
        await store.bets.placeBatch([
          orderFor("p1", 200, { multiplierCenti: 150 }), // won: +100
          orderFor("p2", 200, { multiplierCenti: 150 }), // won: +100
          orderFor("p3", 300), // lost: -300
          orderFor("p3", 500), // void: counts zero
          orderFor("p4", 1_000, { multiplierCenti: 500 }),
        ])
      ).map(placedBet);
      const outcomes = { [bets[0]!.id]: "won", [bets[1]!.id]: "won", [bets[2]!.id]: "lost", [bets[3]!.id]: "void", [bets[4]!.id]: "won" } as const;
      await store.settlement.settle(decide(await store.settlement.openBets(), outcomes), T_END + 1000);
      const board = await store.leaderboard.read(T_END + 2000);
      expect(board).toEqual({
        day: new Date(NOW).toISOString().slice(0, 10),
        entries: [
          { rank: 1, nickname: "adam", net: 1 },
          { rank: 2, nickname: "Zed", net: 1 },
          { rank: 3, nickname: "_mid", net: -3 },
        ],
      });
      await store.nicknames.set("p4", "whale", NOW);
      expect(await store.leaderboard.read(T_END + 2500)).toEqual(board);
      expect((await store.leaderboard.read(T_END + 3000)).entries[0]).toEqual({ rank: 1, nickname: "whale", net: 40 });
    });

    test("a random day of batches and settlements keeps every balance equal to its ledger and pays every bet exactly what it owes", async () => {
      let state = 17;
      const random = (n: number) => {
        state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
        return state % n;
      };
      const ids = Array.from({ length: 12 }, (_, i) => `r${i}`);
      for (const id of ids) await store.players.create(id, 2_000 + random(3_000), NOW);
      let placedCount = 0;
      for (let round = 0; round < 8; round++) {
        const orders = Array.from({ length: 30 }, () =>
          orderFor(ids[random(ids.length + 1)] ?? "nobody", 1 + random(900), {
            multiplierCenti: 101 + random(900),
            idempotencyKey: random(4) === 0 ? `key-${random(20)}` : null,
            tStart: T_START + round * 5000,
            tEnd: T_END + round * 5000,
          }),
        );
        const outcomes = await store.bets.placeBatch(orders);
        placedCount += outcomes.filter((o) => o.kind === "placed").length;
        const open = await store.settlement.openBets();
        const kinds = ["won", "lost", "void"] as const;
        const chosen = Object.fromEntries(open.filter(() => random(3) > 0).map((bet) => [bet.id, kinds[random(3)]!]));
        await store.settlement.settle(decide(open, chosen), T_END + round * 5000 + 1000);
      }
      const tables = await harness.tables();
      expect(tables.bets).toHaveLength(placedCount);
      expect(moneyInvariantsBroken(tables)).toEqual([]);
    });
  });
}
