import { describe, expect, test } from "bun:test";
import type { BetRequest } from "../../common/contracts/bet.ts";
import { openTempStore } from "../../test/support/temp-db.ts";
import type { CellVerdict } from "../grid/grid-service.ts";
import { createRateLimiter } from "../http/rate-limiter.ts";
import { createPlayerStore } from "../players/player-store.ts";
import { type BetOrder, type BetRow, createBetStore, type PlaceOutcome } from "./bet-store.ts";
import { BetRefused } from "./bet-refused.ts";
import { createExposure, type ExposureLimits } from "./exposure.ts";
import { createGroupCommitter } from "./group-commit.ts";
import { createBetPlacement, type PlacementParts } from "./placement.ts";

const NOW = 1_800_000_000_000;
const request = (amount = 1, price_low = 42_000): BetRequest => ({ amount, cell: { t_start: NOW + 10_000, t_end: NOW + 15_000, price_low, price_high: price_low + 10 } });
const WIDE: ExposureLimits = { maxOpenBets: 100, maxCellLiabilityCents: 1e9, maxHouseLiabilityCents: 1e9 };

/** Placement over a real database, exposure and group commit; the grid says `verdict`. */
function setUp({ balanceCents = 10_000, limits = WIDE, verdict = { ok: true, multiplier: 2.5 } as CellVerdict, rate = 1000 } = {}) {
  const db = openTempStore();
  createPlayerStore(db).create("p1", balanceCents, NOW);
  const bets = createBetStore(db);
  const exposure = createExposure(limits);
  const orders: BetOrder[] = [];
  const commits = createGroupCommitter((batch: readonly BetOrder[]): PlaceOutcome[] => {
    orders.push(...batch);
    return bets.placeBatch(batch);
  });
  const placed: BetRow[] = [];
  const parts: PlacementParts = {
    grid: { judge: () => verdict },
    exposure,
    bets,
    commits,
    limiter: createRateLimiter({ rate }),
    minStakeCents: 10,
    maxStakeCents: 5000,
    onPlaced: (bet) => void placed.push(bet),
    now: () => NOW,
  };
  const placement = createBetPlacement(parts);
  const count = () => (db.query("SELECT count(*) AS n FROM bets").get() as { n: number }).n;
  return { db, placement, exposure, orders, placed, count };
}

/** The refusal `promise` rejects with. */
async function refusal(promise: Promise<unknown>): Promise<BetRefused> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof BetRefused)) throw new Error(`expected a BetRefused, got ${String(error)}`);
  return error;
}

describe("bet placement", () => {
  test("an accepted bet is stored, priced at acceptance, handed on once, and keeps its share of the limits", async () => {
    const { db, placement, exposure, placed, count } = setUp();
    using _ = db;
    const answer = await placement.place("p1", request(2), null);
    expect(answer).toEqual({ status: "accepted", bet_id: expect.any(String), multiplier: 2.5, potential_payout: 5, balance: 98 });
    expect(count()).toBe(1);
    expect(placed.map((bet) => bet.id)).toEqual([answer.bet_id]);
    expect(exposure.openBets("p1")).toBe(1);
    expect(exposure.houseLiabilityCents()).toBe(500);
  });

  test("the Idempotency-Key is written with the bet: a later retry answers with the same bet and places nothing", async () => {
    const { db, placement, orders, placed, count, exposure } = setUp();
    using _ = db;
    const first = await placement.place("p1", request(), "key-1");
    expect(orders.map((order) => order.idempotencyKey)).toEqual(["key-1"]);
    const again = await placement.place("p1", request(), "key-1");
    expect(again).toEqual(first);
    expect(count()).toBe(1);
    expect(placed).toHaveLength(1);
    expect(exposure.openBets("p1")).toBe(1);
  });

  test("concurrent requests with one Idempotency-Key share one answer and one bet", async () => {
    const { db, placement, count, exposure } = setUp();
    using _ = db;
    const [a, b] = await Promise.all([placement.place("p1", request(), "same"), placement.place("p1", request(), "same")]);
    expect(a).toEqual(b);
    expect(count()).toBe(1);
    expect(exposure.openBets("p1")).toBe(1);
  });

  test("an Idempotency-Key that is not short and plain is refused before anything is written", async () => {
    const { db, placement, count } = setUp();
    using _ = db;
    const error = await refusal(placement.place("p1", request(), "no spaces allowed"));
    expect(error).toMatchObject({ reason: "invalid", details: [{ path: "/headers/idempotency-key", message: "invalid" }] });
    expect(count()).toBe(0);
  });

  test("insufficient funds: refused with the balance, nothing stored, and the cell's and the house's share given back", async () => {
    const { db, placement, exposure, placed, count } = setUp({ balanceCents: 50, limits: { maxOpenBets: 1, maxCellLiabilityCents: 300, maxHouseLiabilityCents: 300 } });
    using _ = db;
    const error = await refusal(placement.place("p1", request(1), null));
    expect(error).toMatchObject({ reason: "insufficient_funds", message: "balance 0.5 is less than the stake" });
    expect(count()).toBe(0);
    expect(placed).toHaveLength(0);
    expect(exposure.houseLiabilityCents()).toBe(0);
    expect(exposure.openBets("p1")).toBe(0);
    // The whole capacity is there again: a bet that fits the balance takes all of it.
    expect(await placement.place("p1", request(0.5), null)).toMatchObject({ status: "accepted" });
    expect(exposure.houseLiabilityCents()).toBe(125);
  });

  test("an unknown player is refused and gives its share back", async () => {
    const { db, placement, exposure } = setUp();
    using _ = db;
    expect((await refusal(placement.place("nobody", request(), null))).reason).toBe("unknown_player");
    expect(exposure.houseLiabilityCents()).toBe(0);
    expect(exposure.openBets("nobody")).toBe(0);
  });

  test("a write that fails gives the share back and rejects with the write's error", async () => {
    const exposure = createExposure(WIDE);
    const placement = createBetPlacement({
      grid: { judge: () => ({ ok: true, multiplier: 2 }) },
      exposure,
      bets: { byIdempotencyKey: () => undefined },
      commits: { submit: () => Promise.reject(new Error("disk I/O error")) },
      limiter: createRateLimiter({ rate: 1000 }),
      minStakeCents: 10,
      maxStakeCents: 5000,
      now: () => NOW,
    });
    await expect(placement.place("p1", request(), null)).rejects.toThrow("disk I/O error");
    expect(exposure.houseLiabilityCents()).toBe(0);
    expect(exposure.openBets("p1")).toBe(0);
  });

  test("a bet over a limit is refused naming the limit, and reserves nothing", async () => {
    const { db, placement, exposure } = setUp({ limits: { maxOpenBets: 100, maxCellLiabilityCents: 200, maxHouseLiabilityCents: 1e9 } });
    using _ = db;
    const error = await refusal(placement.place("p1", request(1), null));
    expect(error).toMatchObject({ reason: "limit_exceeded", message: "bet would exceed a limit: max_cell_liability", details: [{ path: "/", message: "max_cell_liability" }] });
    expect(exposure.houseLiabilityCents()).toBe(0);
  });

  test("stakes outside the limits and amounts with more than two decimals are refused, naming the field", async () => {
    const { db, placement, count } = setUp();
    using _ = db;
    expect(await refusal(placement.place("p1", request(0.09), null))).toMatchObject({
      reason: "stake_out_of_range",
      message: "stake must be between 0.1 and 50",
      details: [{ path: "/amount", message: "below the minimum stake" }],
    });
    expect((await refusal(placement.place("p1", request(50.01), null))).details).toEqual([{ path: "/amount", message: "above the maximum stake" }]);
    expect(await refusal(placement.place("p1", request(1.001, 42_000.005), null))).toMatchObject({
      reason: "invalid",
      details: [
        { path: "/amount", message: "must have at most two decimal places" },
        { path: "/cell/price_low", message: "must have at most two decimal places" },
        { path: "/cell/price_high", message: "must have at most two decimal places" },
      ],
    });
    expect(count()).toBe(0);
  });

  test("the grid's verdict refuses locked, unpriced and off-grid cells; no fresh price says when to retry", async () => {
    for (const [reason, expected] of [
      ["cell_locked", { reason: "cell_locked", retryAfterMs: undefined }],
      ["no_price", { reason: "no_price", retryAfterMs: 1000 }],
      ["off_grid", { reason: "off_grid", details: [{ path: "/cell", message: "not a cell the grid offers now" }] }],
    ] as const) {
      const { db, placement, exposure } = setUp({ verdict: { ok: false, reason } });
      using _ = db;
      expect(await refusal(placement.place("p1", request(), null))).toMatchObject(expected);
      expect(exposure.houseLiabilityCents()).toBe(0);
    }
  });

  test("a player over the rate is refused with how long to wait, before anything else is looked at", async () => {
    const { db, placement, count } = setUp({ rate: 1, verdict: { ok: false, reason: "off_grid" } });
    using _ = db;
    expect((await refusal(placement.place("p1", request(), null))).reason).toBe("off_grid");
    expect(await refusal(placement.place("p1", request(), null))).toMatchObject({ reason: "rate_limited", retryAfterMs: 1000 });
    expect(count()).toBe(0);
  });
});
