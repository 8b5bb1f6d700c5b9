import { describe, expect, test } from "bun:test";
import { auditMoney } from "../../test/support/money-audit.ts";
import { openTempStore } from "../../test/support/temp-db.ts";
import { createBetStore } from "../bets/bet-store.ts";
import { createPlayerStore } from "../players/player-store.ts";
import { createSettleStore } from "./settle-store.ts";
import type { Decision } from "./settlement-book.ts";

const now = 1_700_000_000_000;

function setup(options: Parameters<typeof createSettleStore>[1] = {}) {
  const db = openTempStore();
  createPlayerStore(db).create("p1", 10_000, now);
  const order = (id: string) => ({
    id,
    playerId: "p1",
    stakeCents: 1_000,
    tStart: now + 5000,
    tEnd: now + 10_000,
    lowCents: 4_200_000,
    highCents: 4_201_000,
    multiplierCenti: 275,
    createdAt: now,
    idempotencyKey: null,
  });
  createBetStore(db).placeBatch([order("won"), order("lost"), order("void")]);
  const settle = createSettleStore(db, options);
  const bets = Object.fromEntries(settle.openBets().map((bet) => [bet.id, bet]));
  const decisions: Decision[] = [
    { bet: bets.won!, outcome: "won", at: now + 6000 },
    { bet: bets.lost!, outcome: "lost", at: now + 11_000 },
    { bet: bets.void!, outcome: "void", at: now + 11_000 },
  ];
  return { db, settle, decisions, order };
}

describe("settle store", () => {
  test("pays a win (stake × multiplier, rounded down), refunds a void, credits nothing for a loss", () => {
    const { db, settle, decisions } = setup();
    const settled = settle.settle(decisions, now + 11_000);
    expect(settled.map((s) => [s.betId, s.outcome, s.payoutCents])).toEqual([
      ["won", "won", 2_750],
      ["lost", "lost", 0],
      ["void", "void", 0],
    ]);
    // 10,000 − 3 × 1,000 + 2,750 + 1,000
    expect(settled.at(-1)?.balanceCents).toBe(10_750);
    expect(db.query("SELECT id, status, payout_cents FROM bets ORDER BY id").all()).toEqual([
      { id: "lost", status: "lost", payout_cents: 0 },
      { id: "void", status: "void", payout_cents: 0 },
      { id: "won", status: "won", payout_cents: 2_750 },
    ]);
    expect(auditMoney(db.path)).toMatchObject({ unbalanced: [], betsWithoutStake: [], stakesWithoutBet: 0 });
    db[Symbol.dispose]();
  });

  test("each settled bet is told the balance after its own credit, in the decisions' order; a bet decided twice in one call takes its first decision", () => {
    const { db, settle, decisions } = setup();
    const [won, lost, voided] = decisions as [Decision, Decision, Decision];
    // void first, then the loss, then the win, and the win decided again as lost after it.
    const settled = settle.settle([voided, lost, won, { ...won, outcome: "lost" }], now + 11_000);
    expect(settled.map((s) => [s.betId, s.outcome, s.payoutCents, s.balanceCents])).toEqual([
      ["void", "void", 0, 8_000], // 10,000 − 3 × 1,000 + the 1,000 refund
      ["lost", "lost", 0, 8_000],
      ["won", "won", 2_750, 10_750],
    ]);
    expect(db.query("SELECT kind, amount_cents, bet_id FROM ledger WHERE kind IN ('payout', 'refund') ORDER BY id").all()).toEqual([
      { kind: "refund", amount_cents: 1_000, bet_id: "void" },
      { kind: "payout", amount_cents: 2_750, bet_id: "won" },
    ]);
    expect(auditMoney(db.path)).toMatchObject({ unbalanced: [], betsWithoutStake: [], stakesWithoutBet: 0 });
    db[Symbol.dispose]();
  });

  test("settling again pays nothing more: exactly once", () => {
    const { db, settle, decisions } = setup();
    settle.settle(decisions, now + 11_000);
    expect(settle.settle(decisions, now + 12_000)).toEqual([]);
    expect(settle.openBets()).toEqual([]);
    expect(db.query("SELECT count(*) AS n FROM ledger WHERE kind IN ('payout', 'refund')").get()).toEqual({ n: 2 });
    // And the database itself refuses a second credit for a bet.
    expect(() => db.run("INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES ('p1', 'payout', 1, 'won', 0)")).toThrow();
    db[Symbol.dispose]();
  });

  test("a closing window's losses are written together when they are all its open bets", () => {
    const disagreements: unknown[] = [];
    const { db, settle, order } = setup({ onDisagreement: (window) => disagreements.push(window) });
    createBetStore(db).placeBatch([order("l1"), order("l2")]);
    const open = settle.openBets();
    const settled = settle.settle(open.map((bet) => ({ bet, outcome: "lost" as const, at: now + 11_000 })), now + 11_000);
    expect(settled.map((s) => [s.betId, s.outcome, s.payoutCents, s.balanceCents])).toEqual(open.map((bet) => [bet.id, "lost", 0, 5_000]));
    expect(disagreements).toEqual([]);
    expect(db.query("SELECT DISTINCT status, settled_at FROM bets").all()).toEqual([{ status: "lost", settled_at: now + 11_000 }]);
    db[Symbol.dispose]();
  });

  test("when the book's losses are not exactly the window's open bets, only the decided ones are written, bet by bet", () => {
    const disagreements: unknown[] = [];
    const { db, settle, decisions } = setup({ onDisagreement: (window) => disagreements.push(window) });
    // The book knows "lost" only; "won" and "void" are open in the same window.
    const settled = settle.settle([decisions[1]!], now + 11_000);
    expect(settled.map((s) => s.betId)).toEqual(["lost"]);
    expect(disagreements).toEqual([{ tStart: now + 5000, tEnd: now + 10_000, book: 1, database: 3 }]);
    expect(db.query("SELECT id, status FROM bets ORDER BY id").all()).toEqual([
      { id: "lost", status: "lost" },
      { id: "void", status: "open" },
      { id: "won", status: "open" },
    ]);
    // A lost bet already settled: the window's other bets are still written, the settled one is not told twice.
    const rest = settle.openBets().map((bet) => ({ bet, outcome: "lost" as const, at: now + 12_000 }));
    const again = settle.settle([...rest, decisions[1]!], now + 12_000);
    expect(again.map((s) => s.betId).sort()).toEqual(["void", "won"]);
    expect(db.query("SELECT DISTINCT status FROM bets").all()).toEqual([{ status: "lost" }]);
    db[Symbol.dispose]();
  });

  test("a window's losses written over several calls are checked in the call that finishes them: agreeing, nothing is reported; a bet the book never knew is reported and stays open", () => {
    const disagreements: unknown[] = [];
    const { db, settle, order } = setup({ onDisagreement: (window) => disagreements.push(window) });
    createBetStore(db).placeBatch([order("l1"), order("l2")]);
    const window = `${now + 5000}:${now + 10_000}`;
    const lost = (ids: string[], at: number) => settle.openBets().filter((bet) => ids.includes(bet.id)).map((bet) => ({ bet, outcome: "lost" as const, at }));
    // Five open bets, lost over two calls: the first names the window as continuing.
    expect(settle.settle(lost(["won", "lost"], now + 11_000), now + 11_000, undefined, new Set([window])).map((s) => s.betId).sort()).toEqual(["lost", "won"]);
    expect(disagreements).toEqual([]);
    expect(settle.settle(lost(["void", "l1", "l2"], now + 11_000), now + 11_000).map((s) => s.betId).sort()).toEqual(["l1", "l2", "void"]);
    expect(disagreements).toEqual([]);
    expect(db.query("SELECT DISTINCT status FROM bets").all()).toEqual([{ status: "lost" }]);

    // Another window: the book loses l3 and l4 over two calls, but l5 is open there too, unknown to the book.
    const later = (id: string) => ({ ...order(id), tStart: now + 10_000, tEnd: now + 15_000 });
    createBetStore(db).placeBatch([later("l3"), later("l4"), later("l5")]);
    const known = settle.openBets().filter((bet) => bet.id !== "l5");
    settle.settle([{ bet: known[0]!, outcome: "lost", at: now + 16_000 }], now + 16_000, undefined, new Set([`${now + 10_000}:${now + 15_000}`]));
    expect(disagreements).toEqual([]);
    settle.settle([{ bet: known[1]!, outcome: "lost", at: now + 16_000 }], now + 16_000);
    expect(disagreements).toEqual([{ tStart: now + 10_000, tEnd: now + 15_000, book: 1, database: 2 }]);
    expect(db.query("SELECT id, status FROM bets WHERE t_start = ?1 ORDER BY id").all(now + 10_000)).toEqual([
      { id: "l3", status: "lost" },
      { id: "l4", status: "lost" },
      { id: "l5", status: "open" },
    ]);
    expect(auditMoney(db.path)).toMatchObject({ unbalanced: [], betsWithoutStake: [], stakesWithoutBet: 0 });
    db[Symbol.dispose]();
  });

  test("the oldest open window start is where the replay at start begins; none when every bet is settled", () => {
    const { db, settle, decisions } = setup();
    using _ = db;
    createBetStore(db).placeBatch([{ id: "earlier", playerId: "p1", stakeCents: 100, tStart: now + 1000, tEnd: now + 2000, lowCents: 1, highCents: 2, multiplierCenti: 200, createdAt: now, idempotencyKey: null }]);
    expect(settle.oldestOpenStart()).toBe(now + 1000);
    const earlier = settle.openBets().find((bet) => bet.id === "earlier")!;
    settle.settle([{ bet: earlier, outcome: "void", at: now + 3000 }], now + 3000);
    expect(settle.oldestOpenStart()).toBe(now + 5000);
    settle.settle(decisions, now + 11_000);
    expect(settle.oldestOpenStart()).toBeUndefined();
  });
});
