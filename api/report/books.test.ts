import { describe, expect, test } from "bun:test";
import { openTempStore } from "../../test/support/temp-db.ts";
import { DAY, DAY_START, type SeededBet, seedBooks } from "./_books-fixture.ts";
import { readBooks } from "./books.ts";
import { createBetStore } from "../bets/bet-store.ts";
import { createPlayerStore } from "../players/player-store.ts";
import { createSettleStore } from "../settlement/settle-store.ts";
import { createTickLog } from "../settlement/tick-log.ts";

const won = (bet: SeededBet) => Math.floor((bet.stake * bet.multiplierCenti) / 100);
const within = (ms: number | null, from: number, to: number) => ms !== null && ms >= from && ms < to;
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe("readBooks", () => {
  for (const seed of [1, 2, 3]) {
    test(`a day's money, outcomes, return and exposures match what was done (seed ${seed})`, () => {
      using db = openTempStore();
      const seeded = seedBooks(db, seed);
      const [from, to] = [DAY_START, DAY_START + DAY];
      const books = readBooks(db, { from, to }, { houseEdge: 0.05, top: 4 });

      const stakes = sum(seeded.bets.filter((b) => within(b.createdAt, from, to)).map((b) => b.stake));
      const payouts = sum(seeded.bets.filter((b) => b.outcome === "won" && within(b.settledAt, from, to)).map(won));
      const refunds = sum(seeded.bets.filter((b) => b.outcome === "void" && within(b.settledAt, from, to)).map((b) => b.stake));
      const grants = sum(seeded.players.filter((p) => within(p.at, from, to)).map((p) => p.grant));
      expect(books.money).toEqual({ stakes_cents: stakes, payouts_cents: payouts, refunds_cents: refunds, grants_cents: grants, house_net_cents: stakes - payouts - refunds });

      const ofDay = seeded.bets.filter((b) => within(b.tEnd, from, to));
      for (const status of ["open", "won", "lost", "void"] as const) {
        const these = ofDay.filter((b) => b.outcome === status);
        expect({ status, ...books.outcomes[status] }).toEqual({
          status,
          bets: these.length,
          stake_cents: sum(these.map((b) => b.stake)),
          payout_cents: status === "won" ? sum(these.map(won)) : 0,
        });
      }
      const played = ofDay.filter((b) => b.outcome === "won" || b.outcome === "lost");
      const playedStakes = sum(played.map((b) => b.stake));
      const playedPayouts = sum(played.filter((b) => b.outcome === "won").map(won));
      expect(playedStakes).toBeGreaterThan(0);
      expect(books.return_to_player).toEqual({
        settled_stakes_cents: playedStakes,
        settled_payouts_cents: playedPayouts,
        realised: playedPayouts / playedStakes,
        theoretical: 0.95,
        house_edge: 0.05,
      });

      const windows = new Map<number, SeededBet[]>();
      for (const bet of ofDay) windows.set(bet.tEnd, [...(windows.get(bet.tEnd) ?? []), bet]);
      const expected = [...windows.entries()]
        .map(([tEnd, bets]) => ({
          t_start: tEnd - 5000,
          t_end: tEnd,
          bets: bets.length,
          stake_cents: sum(bets.map((b) => b.stake)),
          potential_payout_cents: sum(bets.map(won)),
          payout_cents: sum(bets.filter((b) => b.outcome === "won").map(won)),
          open_bets: bets.filter((b) => b.outcome === "open").length,
        }))
        .sort((a, b) => b.potential_payout_cents - a.potential_payout_cents || a.t_end - b.t_end)
        .slice(0, 4);
      expect(books.top_windows).toEqual(expected);
    });
  }

  test("a range with nothing in it reads zeros and no return, not NaN", () => {
    using db = openTempStore();
    seedBooks(db, 4);
    const books = readBooks(db, { from: DAY_START + 10 * DAY, to: DAY_START + 11 * DAY }, { houseEdge: 0.02, top: 5 });
    expect(books.money).toEqual({ stakes_cents: 0, payouts_cents: 0, refunds_cents: 0, grants_cents: 0, house_net_cents: 0 });
    expect(books.return_to_player).toEqual({ settled_stakes_cents: 0, settled_payouts_cents: 0, realised: null, theoretical: 0.98, house_edge: 0.02 });
    expect(books.outcomes.won).toEqual({ bets: 0, stake_cents: 0, payout_cents: 0 });
    expect(books.top_windows).toEqual([]);
  });
});

describe("return by distance from the price", () => {
  test("groups won and lost bets by the bands between their band and the price's when taken, with what they returned", () => {
    using db = openTempStore();
    const at = DAY_START + 3_600_000;
    createPlayerStore(db).create("p1", 1_000_000, at - 10_000);
    const ticks = createTickLog(db);
    // The price when the bets are taken: 42,005.00 (band 42,000-42,010), then 42,031.00 (band 42,030-42,040).
    db.transaction(() => {
      ticks.append({ tick: { symbol: "BTC-USD", price: 42_005, ts: at - 1000 }, continuous: true }, at - 1000);
      ticks.append({ tick: { symbol: "BTC-USD", price: 42_031, ts: at + 1000 }, continuous: true }, at + 1000);
    })();
    const order = (id: string, lowCents: number, stakeCents: number, createdAt: number) => ({
      id,
      playerId: "p1",
      stakeCents,
      tStart: at + 10_000,
      tEnd: at + 15_000,
      lowCents,
      highCents: lowCents + 1000,
      multiplierCenti: 300,
      createdAt,
      idempotencyKey: null,
    });
    createBetStore(db).placeBatch([
      order("a", 4_201_000, 100, at), // 1 band above 42,000: won
      order("b", 4_199_000, 200, at), // 1 band below: lost
      order("c", 4_203_000, 400, at), // 3 bands above: lost
      order("d", 4_203_000, 800, at + 2000), // taken at 42,031: its own band, 0 away: won
      order("e", 4_205_000, 50, at + 2000), // 2 above 42,030: void, not counted
    ]);
    const settle = createSettleStore(db);
    const open = Object.fromEntries(settle.openBets().map((bet) => [bet.id, bet]));
    const outcome = { a: "won", b: "lost", c: "lost", d: "won", e: "void" } as const;
    settle.settle(Object.entries(outcome).map(([id, result]) => ({ bet: open[id]!, outcome: result, at: at + 16_000 })), at + 16_000);

    const books = readBooks(db, { from: DAY_START, to: DAY_START + DAY }, { houseEdge: 0.05, top: 3 });
    expect(books.return_by_distance).toEqual([
      { bands_away: 0, bets: 1, stake_cents: 800, payout_cents: 2400, realised: 3 },
      { bands_away: 1, bets: 2, stake_cents: 300, payout_cents: 300, realised: 1 },
      { bands_away: 3, bets: 1, stake_cents: 400, payout_cents: 0, realised: 0 },
    ]);
  });
});
