import { describe, expect, test } from "bun:test";
import { openTempStore } from "../../test/support/temp-db.ts";
import { createPlayerStore } from "../players/player-store.ts";
import { type BetOrder, createBetStore, potentialPayoutCents } from "./bet-store.ts";

const now = 1_700_000_000_000;
let seq = 0;
function order(playerId: string, stakeCents: number, extra: Partial<BetOrder> = {}): BetOrder {
  return {
    id: `bet-${String(++seq).padStart(6, "0")}`,
    playerId,
    stakeCents,
    tStart: now + 5000,
    tEnd: now + 10000,
    lowCents: 4_200_000,
    highCents: 4_201_000,
    multiplierCenti: 250,
    createdAt: now,
    idempotencyKey: null,
    ...extra,
  };
}

function ledgerSum(db: ReturnType<typeof openTempStore>, playerId: string): number {
  return (db.query("SELECT coalesce(sum(amount_cents), 0) AS s FROM ledger WHERE player_id = ?").get(playerId) as { s: number }).s;
}

describe("bet store", () => {
  test("a placed bet debits the stake through the ledger, in one transaction with the bet", () => {
    using db = openTempStore();
    const players = createPlayerStore(db);
    const bets = createBetStore(db);
    players.create("p1", 100_000, now);
    const [outcome] = bets.placeBatch([order("p1", 1_050)]);
    expect(outcome).toMatchObject({ kind: "placed", bet: { stake_cents: 1_050, balance_after_cents: 98_950, status: "open" } });
    expect(players.balance("p1")).toBe(98_950);
    expect(ledgerSum(db, "p1")).toBe(98_950);
    expect(db.query("SELECT kind, amount_cents FROM ledger WHERE player_id = 'p1' ORDER BY id").all()).toEqual([
      { kind: "grant", amount_cents: 100_000 },
      { kind: "stake", amount_cents: -1_050 },
    ]);
  });

  test("an order beyond the balance is refused alone; the rest of its batch is written", () => {
    using db = openTempStore();
    const players = createPlayerStore(db);
    const bets = createBetStore(db);
    players.create("p1", 1_000, now);
    const outcomes = bets.placeBatch([order("p1", 600), order("p1", 600), order("p1", 400), order("nobody", 1)]);
    expect(outcomes.map((o) => o.kind)).toEqual(["placed", "insufficient_funds", "placed", "unknown_player"]);
    expect(players.balance("p1")).toBe(0);
    expect(ledgerSum(db, "p1")).toBe(0);
  });

  test("the database itself refuses a negative balance and any change to the ledger", () => {
    using db = openTempStore();
    createPlayerStore(db).create("p1", 500, now);
    expect(() => db.run("INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES ('p1', 'grant', -600, NULL, 0)")).toThrow();
    db.run(
      "INSERT INTO bets (id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, created_at, balance_after_cents) VALUES ('b', 'p1', 600, 1, 2, 1, 2, 200, 0, 0)",
    );
    expect(() => db.run("INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES ('p1', 'stake', -600, 'b', 0)")).toThrow(/CHECK/);
    expect(() => db.run("UPDATE ledger SET amount_cents = 1")).toThrow(/append-only/);
    expect(() => db.run("DELETE FROM ledger")).toThrow(/append-only/);
    expect(createPlayerStore(db).balance("p1")).toBe(500);
  });

  test("a bet keeps its quote id and minimum; the database refuses a bet whose multiplier is below its own minimum", () => {
    using db = openTempStore();
    createPlayerStore(db).create("p1", 10_000, now);
    const bets = createBetStore(db);
    const [placed] = bets.placeBatch([order("p1", 100, { quoteId: "mjuohs00-1", minMultiplierCenti: 243 })]);
    expect(placed).toMatchObject({ kind: "placed", bet: { quote_id: "mjuohs00-1", min_multiplier_centi: 243, multiplier_centi: 250 } });
    if (placed?.kind !== "placed") throw new Error("not placed");
    expect(bets.get("p1", placed.bet.id)).toEqual(placed.bet);
    expect(() => bets.placeBatch([order("p1", 100, { minMultiplierCenti: 251 })])).toThrow(/CHECK/);
    expect(createPlayerStore(db).balance("p1")).toBe(9_900);
  });

  test("an Idempotency-Key used again returns the first bet and never debits twice", () => {
    using db = openTempStore();
    const players = createPlayerStore(db);
    const bets = createBetStore(db);
    players.create("p1", 10_000, now);
    const [first] = bets.placeBatch([order("p1", 1_000, { idempotencyKey: "k1" })]);
    const [again, other] = bets.placeBatch([order("p1", 1_000, { idempotencyKey: "k1" }), order("p2-missing", 1, { idempotencyKey: "k1" })]);
    expect(first?.kind).toBe("placed");
    expect(again).toEqual({ kind: "replayed", bet: expect.objectContaining({ id: (first as { bet: { id: string } }).bet.id, balance_after_cents: 9_000 }) });
    expect(other?.kind).toBe("unknown_player");
    expect(players.balance("p1")).toBe(9_000);
  });

  test("lists a player's own bets newest first, by page and by status", () => {
    using db = openTempStore();
    const players = createPlayerStore(db);
    const bets = createBetStore(db);
    players.create("p1", 10_000, now);
    players.create("p2", 10_000, now);
    bets.placeBatch([order("p1", 100), order("p2", 100), order("p1", 100), order("p1", 100)]);
    const firstPage = bets.page("p1", { limit: 2 });
    expect(firstPage.map((b) => b.player_id)).toEqual(["p1", "p1"]);
    expect(firstPage[0]!.id > firstPage[1]!.id).toBe(true);
    const next = bets.page("p1", { limit: 2, before: firstPage[1]!.id });
    expect(next).toHaveLength(1);
    expect(bets.page("p1", { limit: 10, status: "won" })).toEqual([]);
    expect(bets.get("p2", firstPage[0]!.id)).toBeUndefined();
    expect(bets.get("p1", firstPage[0]!.id)?.id).toBe(firstPage[0]!.id);
  });

  test("potential payout is stake × multiplier rounded down to the cent", () => {
    expect(potentialPayoutCents(333, 299)).toBe(995);
    expect(potentialPayoutCents(1_000, 10_000)).toBe(100_000);
  });
});
