import { describe, expect, test } from "bun:test";
import type { BetRequest } from "../../common/contracts/bet.ts";
import type { Tick } from "../../common/contracts/price.ts";
import { openTempStore } from "../../test/support/temp-db.ts";
import { defaultGridSettings } from "../grid/build-grid.ts";
import { type CellVerdict, createGridService } from "../grid/grid-service.ts";
import type { Market } from "../market/market.ts";
import { touchProbability } from "../pricing/touch-probability.ts";
import { createRateLimiter } from "../http/rate-limiter.ts";
import { createPlayerStore } from "../players/player-store.ts";
import { type BetOrder, type BetRow, createBetStore, type PlaceOutcome } from "./bet-store.ts";
import { BetRefused } from "./bet-refused.ts";
import { createExposure, type ExposureLimits } from "./exposure.ts";
import { createGroupCommitter } from "./group-commit.ts";
import { createBetPlacement, type PlacementParts, quoteHolds } from "./placement.ts";

const NOW = 1_800_000_000_000;
const request = (amount = 1, price_low = 42_000): BetRequest => ({ amount, cell: { t_start: NOW + 10_000, t_end: NOW + 15_000, price_low, price_high: price_low + 10 } });
const WIDE: ExposureLimits = { maxOpenBets: 100, maxCellLiabilityCents: 1e9, maxHouseLiabilityCents: 1e9 };

/** Placement over a real database, exposure and group commit; the grid says `verdict`. */
function setUp({ balanceCents = 10_000, limits = WIDE, verdict = { ok: true, multiplier: 2.5, quoted: 2.5 } as CellVerdict, rate = 1000, grid = undefined as PlacementParts["grid"] | undefined, now = (): number => NOW } = {}) {
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
    grid: grid ?? { judge: () => verdict, maxMultiplier: 100, minRtp: 0.9 },
    exposure,
    bets,
    commits,
    limiter: createRateLimiter({ rate }),
    minStakeCents: 10,
    maxStakeCents: 5000,
    onPlaced: (bet) => void placed.push(bet),
    now,
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
      grid: { judge: () => ({ ok: true, multiplier: 2, quoted: 2 }), maxMultiplier: 100, minRtp: 0.9 },
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

  test("the grid's verdict refuses locked, unpriced, off-grid and not-offered cells; no fresh price says when to retry", async () => {
    for (const [reason, expected] of [
      ["cell_locked", { reason: "cell_locked", retryAfterMs: undefined }],
      ["no_price", { reason: "no_price", retryAfterMs: 1000 }],
      ["off_grid", { reason: "off_grid", details: [{ path: "/cell", message: "not a cell the grid offers now" }] }],
      ["not_offered", { reason: "not_offered", message: "this cell returns 22.7% on average, below the 90% a cell must return to be offered" }],
    ] as const) {
      const { db, placement, exposure } = setUp({ verdict: reason === "not_offered" ? { ok: false, reason, rtp: 0.2271 } : { ok: false, reason } });
      using _ = db;
      expect(await refusal(placement.place("p1", request(), null))).toMatchObject(expected);
      expect(exposure.houseLiabilityCents()).toBe(0);
    }
    // A cell that would return enough at the cap is refused for the cap, and says so.
    const { db, placement, exposure } = setUp({ verdict: { ok: false, reason: "not_offered", rtp: 0.9402 } });
    using _ = db;
    expect(await refusal(placement.place("p1", request(), null))).toMatchObject({ reason: "not_offered", message: "this cell's fair multiplier is above the highest paid, 100×, so it is not offered" });
    expect(exposure.houseLiabilityCents()).toBe(0);
  });

  test("a player over the rate is refused with how long to wait, before anything else is looked at", async () => {
    const { db, placement, count } = setUp({ rate: 1, verdict: { ok: false, reason: "off_grid" } });
    using _ = db;
    expect((await refusal(placement.place("p1", request(), null))).reason).toBe("off_grid");
    expect(await refusal(placement.place("p1", request(), null))).toMatchObject({ reason: "rate_limited", retryAfterMs: 1000 });
    expect(count()).toBe(0);
  });
});

describe("slippage protection: min_multiplier", () => {
  const quoted = (min_multiplier: number, quote_id = "mjuohs00-1"): BetRequest => ({ ...request(2), min_multiplier, quote_id });

  test("the rule: accepted when the current multiplier is at least the minimum, or when none is named", () => {
    expect(quoteHolds(243, 250)).toBe(true);
    expect(quoteHolds(243, 243)).toBe(true);
    expect(quoteHolds(243, 242)).toBe(false);
    expect(quoteHolds(null, 101)).toBe(true);
  });

  test("a quote that holds is accepted at the CURRENT multiplier, and the quote id and minimum are stored with the bet", async () => {
    const { db, placement, orders } = setUp({ verdict: { ok: true, multiplier: 2.5, quoted: 2.5 } });
    using _ = db;
    const answer = await placement.place("p1", quoted(2.43), null);
    expect(answer).toEqual({ status: "accepted", bet_id: expect.any(String), multiplier: 2.5, potential_payout: 5, balance: 98 });
    expect(orders.map(({ quoteId, minMultiplierCenti, multiplierCenti }) => ({ quoteId, minMultiplierCenti, multiplierCenti }))).toEqual([
      { quoteId: "mjuohs00-1", minMultiplierCenti: 243, multiplierCenti: 250 },
    ]);
    expect(db.query("SELECT quote_id, min_multiplier_centi, multiplier_centi FROM bets").get()).toEqual({ quote_id: "mjuohs00-1", min_multiplier_centi: 243, multiplier_centi: 250 });
    // Exactly the minimum holds too.
    expect((await placement.place("p1", quoted(2.5), null)).multiplier).toBe(2.5);
  });

  test("without min_multiplier the bet is accepted as before, with no quote stored", async () => {
    const { db, placement } = setUp({ verdict: { ok: true, multiplier: 1.01, quoted: 1.01 } });
    using _ = db;
    expect((await placement.place("p1", request(), null)).multiplier).toBe(1.01);
    expect(db.query("SELECT quote_id, min_multiplier_centi FROM bets").get()).toEqual({ quote_id: null, min_multiplier_centi: null });
  });

  test("a quote that changed is refused with the current multiplier: nothing written, no share kept, the Idempotency-Key still free", async () => {
    const { db, placement, exposure, orders, placed, count } = setUp({ verdict: { ok: true, multiplier: 2.38, quoted: 2.38 } });
    using _ = db;
    const message = "the multiplier is now 2.38×, below the 2.43× asked";
    expect(await refusal(placement.place("p1", quoted(2.43), "tap-1"))).toMatchObject({
      reason: "quote_changed",
      message,
      details: [{ path: "/min_multiplier", message }],
      currentMultiplier: 2.38,
    });
    expect(count()).toBe(0);
    expect(orders).toHaveLength(0);
    expect(placed).toHaveLength(0);
    expect(exposure.houseLiabilityCents()).toBe(0);
    expect(exposure.openBets("p1")).toBe(0);
    expect(db.query("SELECT balance_cents FROM players WHERE id = 'p1'").get()).toEqual({ balance_cents: 10_000 });
    // The player takes the multiplier shown, with the same key: accepted at it.
    const taken = await placement.place("p1", quoted(2.38), "tap-1");
    expect(taken).toMatchObject({ status: "accepted", multiplier: 2.38, balance: 98 });
    expect(count()).toBe(1);
  });

  test("a min_multiplier with more than two decimals, not above 1, or above the highest multiplier is invalid", async () => {
    const { db, placement, count } = setUp();
    using _ = db;
    for (const [min_multiplier, message] of [
      [2.005, "must have at most two decimal places"],
      [1, "must be more than 1"],
      [100.01, "must be at most the highest multiplier, 100"],
    ] as const) {
      expect(await refusal(placement.place("p1", quoted(min_multiplier), null))).toMatchObject({ reason: "invalid", details: [{ path: "/min_multiplier", message }] });
    }
    expect(count()).toBe(0);
  });

  test("the odds check holds for every accepted bet: its expected return, priced at acceptance, lies between MIN_RTP and 1 − edge; cells below MIN_RTP or past the cap are refused", async () => {
    // A live grid over a market that moves between each quote and its bet; players always ask for the quoted multiplier.
    const settings = defaultGridSettings;
    // A lively market and a calm one in turn: in the calm one the far cells' fair multipliers pass the cap.
    let sigma = 0.0004;
    let tick: Tick = { symbol: "BTC-USD", price: 42_000.37, ts: NOW - 100 };
    const market: Market = { observe() {}, latest: () => tick, sigma: () => sigma, fresh: () => tick, doubt() {} };
    const grid = createGridService({ market, settings, cacheMs: 0 });
    let clock = NOW;
    const { db, placement } = setUp({ balanceCents: 1e9, grid, now: () => clock, limits: { ...WIDE, maxOpenBets: 1000 } });
    using _ = db;
    let state = 7;
    const rand = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296;
    let accepted = 0;
    let changed = 0;
    let notOffered = 0;
    for (let i = 0; i < 400; i++) {
      clock = NOW + i * 10;
      sigma = i % 2 === 0 ? 0.0004 : 0.0001;
      tick = { symbol: "BTC-USD", price: Math.round((42_000 + (rand() - 0.5) * 40) * 100) / 100, ts: clock - 5 };
      const shown = grid.current(clock)!.cells.filter((cell) => !cell.locked);
      const cell = shown[Math.floor(rand() * shown.length)]!;
      // The price moves by up to $3 before the tap arrives.
      tick = { symbol: "BTC-USD", price: Math.round((tick.price + (rand() - 0.5) * 6) * 100) / 100, ts: clock };
      const asked: BetRequest = { amount: 1, cell: { t_start: cell.t_start, t_end: cell.t_end, price_low: cell.price_low, price_high: cell.price_high }, min_multiplier: cell.multiplier };
      const answer = await placement.place("p1", asked, null).catch((error: unknown) => error as BetRefused);
      const verdict = grid.judge({ t_start: cell.t_start, t_end: cell.t_end, lowCents: Math.round(cell.price_low * 100), highCents: Math.round(cell.price_high * 100) }, clock);
      // Worked out again from the model alone: the chance of a touch now, and the multiplier docs/rules.md gives it.
      const p = touchProbability({
        spot: Math.round(tick.price * 100),
        low: Math.round(cell.price_low * 100),
        high: Math.round(cell.price_high * 100),
        startsIn: (cell.t_start - clock) / 1000,
        endsIn: (cell.t_end - clock) / 1000,
        sigma,
      });
      const fairMultiplier = Math.floor(((1 - settings.houseEdge) / p) * 100 + 1e-9) / 100;
      const ruleMultiplier = Math.min(settings.maxMultiplier, fairMultiplier);
      if (!verdict.ok && verdict.reason === "not_offered") {
        expect(answer).toBeInstanceOf(BetRefused);
        expect((answer as BetRefused).reason).toBe("not_offered");
        // Refused because it returns too little, or because only the cap could price it (never a price).
        expect(p * ruleMultiplier < settings.minRtp || fairMultiplier > settings.maxMultiplier).toBe(true);
        notOffered++;
        continue;
      }
      if (!verdict.ok) continue;
      if (answer instanceof BetRefused) {
        expect(answer.reason).toBe("quote_changed");
        // The refusal names the quote (the lower of now and a second on), which one more tap would take.
        expect(answer.currentMultiplier).toBe(Math.min(verdict.multiplier, verdict.quoted));
        expect(verdict.multiplier).toBeLessThan(cell.multiplier);
        changed++;
        continue;
      }
      accepted++;
      expect(answer.multiplier).toBe(verdict.multiplier);
      expect(answer.multiplier).toBe(fairMultiplier);
      expect(answer.multiplier).toBeGreaterThanOrEqual(cell.multiplier);
      expect(p * answer.multiplier).toBeLessThanOrEqual(1 - settings.houseEdge + 1e-12);
      expect(p * answer.multiplier).toBeGreaterThanOrEqual(settings.minRtp);
    }
    expect(accepted).toBeGreaterThan(50);
    expect(changed).toBeGreaterThan(50);
    expect(notOffered).toBeGreaterThan(5);
  });
});
