import { describe, expect, test } from "bun:test";
import { openTempStore } from "../../test/support/temp-db.ts";
import { createBetStore } from "../bets/bet-store.ts";
import { createSettleStore } from "../settlement/settle-store.ts";
import type { Decision } from "../settlement/settlement-book.ts";
import { createPlayerStore } from "./player-store.ts";

const now = 1_700_000_000_000;

describe("player totals", () => {
  test("count every bet's stake, and pay back the wins' payouts and the voids' refunds, nothing for losses or open bets", () => {
    const db = openTempStore();
    const players = createPlayerStore(db);
    players.create("p1", 100_000, now);
    players.create("p2", 100_000, now);
    const bets = [
      { id: "won", stakeCents: 1_000, multiplierCenti: 275, outcome: "won" },
      { id: "lost", stakeCents: 700, multiplierCenti: 410, outcome: "lost" },
      { id: "void", stakeCents: 333, multiplierCenti: 150, outcome: "void" },
      { id: "open", stakeCents: 1_250, multiplierCenti: 333, outcome: undefined },
    ] as const;
    const order = (id: string, playerId: string, stakeCents: number, multiplierCenti: number, tEnd: number) => ({
      id,
      playerId,
      stakeCents,
      tStart: tEnd - 5000,
      tEnd,
      lowCents: 4_200_000,
      highCents: 4_201_000,
      multiplierCenti,
      createdAt: now,
      idempotencyKey: null,
    });
    createBetStore(db).placeBatch([
      ...bets.map((bet) => order(bet.id, "p1", bet.stakeCents, bet.multiplierCenti, bet.outcome ? now + 10_000 : now + 60_000)),
      order("other", "p2", 5_000, 200, now + 10_000),
    ]);
    const settle = createSettleStore(db);
    const open = Object.fromEntries(settle.openBets().map((bet) => [bet.id, bet]));
    const decisions: Decision[] = bets.flatMap((bet) => (bet.outcome ? [{ bet: open[bet.id]!, outcome: bet.outcome, at: now + 11_000 }] : []));
    settle.settle(decisions, now + 11_000);

    // Worked from docs/rules.md: a win pays ⌊stake × multiplier⌋, a void refunds the stake, a loss pays nothing.
    const staked = 1_000 + 700 + 333 + 1_250;
    const paid = Math.floor((1_000 * 275) / 100) + 333;
    expect(players.totals("p1")).toEqual({ bets: 4, stakedCents: staked, paidOutCents: paid });
    // The paid-back money is what the ledger credited: the balance is the grant less the stakes plus it.
    expect(players.balance("p1")).toBe(100_000 - staked + paid);
    expect(players.totals("p2")).toEqual({ bets: 1, stakedCents: 5_000, paidOutCents: 0 });
    expect(players.totals("nobody")).toEqual({ bets: 0, stakedCents: 0, paidOutCents: 0 });
    db[Symbol.dispose]();
  });
});
