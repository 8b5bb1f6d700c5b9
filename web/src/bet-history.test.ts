import { describe, expect, test } from "bun:test";
import type { BetView } from "../../common/contracts/bet.ts";
import { createBetHistory } from "./bet-history.ts";

const cell = (tStart: number) => ({ t_start: tStart, t_end: tStart + 5000, price_low: 42_010, price_high: 42_020 });
const view = (id: string, over: Partial<BetView> = {}): BetView => ({
  bet_id: id,
  status: "open",
  amount: 5,
  multiplier: 2.35,
  potential_payout: 11.75,
  payout: 0,
  cell: cell(10_000),
  created_at: 1000,
  settled_at: null,
  ...over,
});

describe("bet history", () => {
  test("lists open bets first (soonest window first), then the settled ones newest first", () => {
    const history = createBetHistory();
    history.addPage(
      [
        view("d", { status: "won", payout: 11.75, created_at: 4000 }),
        view("c", { cell: cell(30_000), created_at: 3000 }),
        view("b", { status: "lost", created_at: 2000 }),
        view("a", { cell: cell(20_000), created_at: 1000 }),
      ],
      "a",
    );
    expect(history.entries().map((e) => e.betId)).toEqual(["a", "c", "d", "b"]);
    expect(history.nextBefore()).toBe("a");
  });

  test("a placed bet joins open; its event settles it and moves it down; totals add up in cents", () => {
    const history = createBetHistory();
    history.addPage([view("old", { status: "lost", amount: 0.1, created_at: 500 })], null);
    history.placed({ betId: "new", cell: cell(50_000), amount: 5, multiplier: 2.35, potentialPayout: 11.75, createdAt: 2000 });
    expect(history.entries().map((e) => [e.betId, e.status])).toEqual([
      ["new", "open"],
      ["old", "lost"],
    ]);
    expect(history.totals()).toEqual({ staked: 5.1, paidOut: 0, net: -5.1, open: 1 });
    const before = history.version();
    expect(history.settle("new", "won", 11.75)).toBe(true);
    expect(history.version()).toBeGreaterThan(before);
    expect(history.entries()[0]).toMatchObject({ betId: "new", status: "won", payout: 11.75, version: 2 });
    expect(history.totals()).toEqual({ staked: 5.1, paidOut: 11.75, net: 6.65, open: 0 });
    expect(history.settle("unknown", "lost", 0)).toBe(false);
  });

  test("once the server told the player's totals, they are what totals() reports, with the open count still from the bets", () => {
    const history = createBetHistory();
    history.placed({ betId: "new", cell: cell(50_000), amount: 5, multiplier: 2.35, potentialPayout: 11.75, createdAt: 2000 });
    const before = history.version();
    history.setPlayerTotals({ staked: 105, paidOut: 40, net: -65 });
    expect(history.version()).toBeGreaterThan(before);
    expect(history.totals()).toEqual({ staked: 105, paidOut: 40, net: -65, open: 1 });
    const same = history.version();
    history.setPlayerTotals({ staked: 105, paidOut: 40, net: -65 });
    expect(history.version()).toBe(same);
  });

  test("a void bet paid back its stake, though the API says a win's payout of 0 for it, by event or by page", () => {
    const history = createBetHistory();
    history.placed({ betId: "e", cell: cell(10_000), amount: 4, multiplier: 3, potentialPayout: 12, createdAt: 1 });
    history.settle("e", "void", 0);
    history.upsert([view("p", { amount: 2.5, status: "void", payout: 0 })]);
    expect(history.entries().map((e) => [e.betId, e.payout])).toEqual(
      expect.arrayContaining([
        ["e", 4],
        ["p", 2.5],
      ]),
    );
    expect(history.totals()).toMatchObject({ staked: 6.5, paidOut: 6.5, net: 0 });
  });

  test("a page read before a settlement does not reopen the bet; an unchanged bet changes nothing", () => {
    const history = createBetHistory();
    history.placed({ betId: "x", cell: cell(10_000), amount: 1, multiplier: 3, potentialPayout: 3, createdAt: 1 });
    history.settle("x", "void", 1);
    history.upsert([view("x", { amount: 1 })]);
    expect(history.entries()[0]).toMatchObject({ status: "void", payout: 1 });
    const version = history.version();
    history.upsert([view("x", { amount: 1, status: "void", payout: 1 })]);
    history.placed({ betId: "x", cell: cell(10_000), amount: 1, multiplier: 3, potentialPayout: 3, createdAt: 1 });
    expect(history.version()).toBe(version);
  });
});
