import type { BetAccepted, BetRequest } from "../../common/contracts/bet.ts";
import type { ErrorDetail } from "../../common/contracts/error.ts";
import { fromCents, toCents } from "../../common/money.ts";
import type { GridService } from "../grid/grid-service.ts";
import type { RateLimiter } from "../http/rate-limiter.ts";
import type { BetOrder, BetRow, BetStore, PlaceOutcome } from "./bet-store.ts";
import { potentialPayoutCents } from "./bet-store.ts";
import { BetRefused } from "./bet-refused.ts";
import type { Exposure } from "./exposure.ts";
import type { GroupCommitter } from "./group-commit.ts";

/** An Idempotency-Key is kept only when short and plain. */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,64}$/;

/** With no fresh price, a player may try again this much later (the feed ticks several times a second). */
const NO_PRICE_RETRY_MS = 1000;

/**
 * What placing a bet needs; `onPlaced` hands each stored bet on (api/lifecycle).
 *
 * ```ts
 * const parts: PlacementParts = { grid, exposure, bets, commits, limiter: createRateLimiter({ rate: 10 }), minStakeCents: 10, maxStakeCents: 10_000 };
 * ```
 */
export interface PlacementParts {
  grid: Pick<GridService, "judge" | "maxMultiplier" | "minRtp">;
  exposure: Pick<Exposure, "reserve" | "release">;
  /** SQLite answers at once; PostgreSQL with a promise. */
  bets: { byIdempotencyKey(playerId: string, key: string): BetRow | undefined | Promise<BetRow | undefined> };
  commits: Pick<GroupCommitter<BetOrder, PlaceOutcome>, "submit">;
  limiter: Pick<RateLimiter, "take">;
  minStakeCents: number;
  maxStakeCents: number;
  /** Told of each newly stored bet (settlement takes it from here). */
  onPlaced?: (bet: BetRow) => void;
  now?: () => number;
}

/** The 202 answer for a stored bet; the same for the first request and every retry of it. */
function acceptedAnswer(bet: BetRow): BetAccepted {
  return {
    status: "accepted",
    bet_id: bet.id,
    multiplier: bet.multiplier_centi / 100,
    potential_payout: fromCents(potentialPayoutCents(bet.stake_cents, bet.multiplier_centi)),
    balance: fromCents(bet.balance_after_cents),
  };
}

const twoPlaces = (path: string): ErrorDetail => ({ path, message: "must have at most two decimal places" });

/** A multiplier as the player reads it: 2.4 is "2.40×". */
const shown = (centi: number): string => `${(centi / 100).toFixed(2)}×`;

/**
 * The slippage rule (docs/rules.md): a bet is accepted at the cell's current
 * multiplier when the player named no minimum or the current one is at least
 * that minimum; otherwise it is refused with the current multiplier. A stale,
 * higher quote never binds the house.
 *
 * ```ts
 * quoteHolds(243, 250); // true: accepted at 2.50
 * quoteHolds(243, 238); // false: quote_changed, current 2.38
 * ```
 */
export function quoteHolds(minMultiplierCenti: number | null, currentCenti: number): boolean {
  return minMultiplierCenti === null || currentCenti >= minMultiplierCenti;
}

/**
 * Placing a bet, with no HTTP in it: checks the stake and the cell, prices the
 * cell itself at acceptance (refused with `quote_changed` when that is below
 * the request's `min_multiplier`), reserves the bet's share of the limits, and
 * has the bet committed (debit and bet in one transaction) before answering.
 * Every refusal is a `BetRefused`; the share reserved is given back whenever
 * the bet is not stored (refused, failed, or a retry of one already stored).
 *
 * ```ts
 * const placement = createBetPlacement({ grid, exposure, bets, commits, limiter, minStakeCents: 10, maxStakeCents: 10_000, onPlaced });
 * const answer = await placement.place("p1", { amount: 1, cell: { t_start, t_end, price_low: 42_000, price_high: 42_010 } }, "key-1");
 * answer.bet_id; // the stored bet, once it is on disk
 * ```
 */
export function createBetPlacement({ grid, exposure, bets, commits, limiter, minStakeCents, maxStakeCents, onPlaced = () => {}, now = Date.now }: PlacementParts) {
  // Requests with the same key at the same moment share one answer.
  const inFlight = new Map<string, Promise<BetAccepted>>();

  const placeNew = async (playerId: string, request: BetRequest, idempotencyKey: string | null): Promise<BetAccepted> => {
    const at = now();
    const limited = limiter.take(playerId, at);
    if (!limited.ok) throw new BetRefused("rate_limited", "too many bets; slow down", [], { retryAfterMs: limited.retryAfterMs });
    const stakeCents = toCents(request.amount);
    const lowCents = toCents(request.cell.price_low);
    const highCents = toCents(request.cell.price_high);
    const minCenti = request.min_multiplier === undefined ? null : toCents(request.min_multiplier);
    const maxCenti = Math.round(grid.maxMultiplier * 100);
    if (stakeCents === undefined || lowCents === undefined || highCents === undefined || minCenti === undefined || (minCenti !== null && (minCenti <= 100 || minCenti > maxCenti))) {
      const problems: ErrorDetail[] = [];
      if (stakeCents === undefined) problems.push(twoPlaces("/amount"));
      if (lowCents === undefined) problems.push(twoPlaces("/cell/price_low"));
      if (highCents === undefined) problems.push(twoPlaces("/cell/price_high"));
      if (minCenti === undefined) problems.push(twoPlaces("/min_multiplier"));
      else if (minCenti !== null && minCenti <= 100) problems.push({ path: "/min_multiplier", message: "must be more than 1" });
      else if (minCenti !== null && minCenti > maxCenti) problems.push({ path: "/min_multiplier", message: `must be at most the highest multiplier, ${grid.maxMultiplier}` });
      throw new BetRefused("invalid", "bet is not valid", problems);
    }
    if (stakeCents < minStakeCents || stakeCents > maxStakeCents) {
      throw new BetRefused("stake_out_of_range", `stake must be between ${fromCents(minStakeCents)} and ${fromCents(maxStakeCents)}`, [
        { path: "/amount", message: stakeCents < minStakeCents ? "below the minimum stake" : "above the maximum stake" },
      ]);
    }
    const cell = { t_start: request.cell.t_start, t_end: request.cell.t_end, lowCents, highCents };
    const verdict = grid.judge(cell, at);
    if (!verdict.ok) {
      if (verdict.reason === "cell_locked") throw new BetRefused("cell_locked", "this cell's window starts too soon or has started");
      if (verdict.reason === "no_price") throw new BetRefused("no_price", "no fresh price to quote from", [], { retryAfterMs: NO_PRICE_RETRY_MS });
      if (verdict.reason === "not_offered") {
        const percent = (share: number) => `${Math.floor(share * 1000) / 10}%`;
        // A cell returning at least the floor is refused only because its fair multiplier is above the cap (quoteFor).
        if (verdict.rtp >= grid.minRtp) throw new BetRefused("not_offered", `this cell's fair multiplier is above the highest paid, ${grid.maxMultiplier}×, so it is not offered`);
        throw new BetRefused("not_offered", `this cell returns ${percent(verdict.rtp)} on average, below the ${percent(grid.minRtp)} a cell must return to be offered`);
      }
      throw new BetRefused("off_grid", "this cell is not on the grid", [{ path: "/cell", message: "not a cell the grid offers now" }]);
    }
    const multiplierCenti = Math.round(verdict.multiplier * 100);
    if (minCenti !== null && !quoteHolds(minCenti, multiplierCenti)) {
      // Nothing is reserved or written yet: a refusal moves no money and leaves the Idempotency-Key unused.
      // The refusal names a quote (good for the next moments, as the grid's are), so one more tap at it holds.
      const quotedCenti = Math.min(multiplierCenti, Math.round(verdict.quoted * 100));
      const message = `the multiplier is now ${shown(quotedCenti)}, below the ${shown(minCenti)} asked`;
      throw new BetRefused("quote_changed", message, [{ path: "/min_multiplier", message }], { currentMultiplier: quotedCenti / 100 });
    }
    const entry = { playerId, tStart: cell.t_start, lowCents, stakeCents, multiplierCenti };
    const reserved = exposure.reserve(entry);
    if (!reserved.ok) throw new BetRefused("limit_exceeded", `bet would exceed a limit: ${reserved.limit}`, [{ path: "/", message: reserved.limit }]);

    let outcome: PlaceOutcome | undefined;
    try {
      outcome = await commits.submit({
        id: Bun.randomUUIDv7(),
        playerId,
        stakeCents,
        tStart: cell.t_start,
        tEnd: cell.t_end,
        lowCents,
        highCents,
        multiplierCenti,
        createdAt: at,
        idempotencyKey,
        quoteId: request.quote_id ?? null,
        minMultiplierCenti: minCenti,
      });
    } finally {
      // The one release on this side: only a stored bet keeps its share, until it is settled.
      if (outcome?.kind !== "placed") exposure.release(entry);
    }
    switch (outcome.kind) {
      case "placed":
        onPlaced(outcome.bet);
        return acceptedAnswer(outcome.bet);
      case "replayed":
        return acceptedAnswer(outcome.bet);
      case "insufficient_funds":
        throw new BetRefused("insufficient_funds", `balance ${fromCents(outcome.balanceCents)} is less than the stake`);
      case "unknown_player":
        throw new BetRefused("unknown_player", "no such player");
      case "cell_locked":
        throw new BetRefused("cell_locked", "this cell's window starts too soon or has started");
      case "limit_exceeded":
        // The caps every node shares (PostgreSQL), checked in the bet's own transaction.
        throw new BetRefused("limit_exceeded", `bet would exceed a limit: ${outcome.limit}`, [{ path: "/", message: outcome.limit }]);
      default:
        throw new TypeError(`unhandled outcome ${(outcome satisfies never as { kind: string }).kind}`);
    }
  };

  /** One placement per player and Idempotency-Key at a time on this node: a second request waits for the first's answer. */
  const placeOnce = (playerId: string, request: BetRequest, idempotencyKey: string): Promise<BetAccepted> => {
    const key = `${playerId}\u0000${idempotencyKey}`;
    const pending = inFlight.get(key);
    if (pending) return pending;
    const answer = placeNew(playerId, request, idempotencyKey).finally(() => inFlight.delete(key));
    inFlight.set(key, answer);
    return answer;
  };

  return {
    /**
     * Places a bet for `playerId`; resolves with the 202 answer once the bet is
     * on disk, or rejects with a `BetRefused`. A retry with the same
     * `idempotencyKey` answers with the bet the first placed.
     */
    place(playerId: string, request: BetRequest, idempotencyKey: string | null): Promise<BetAccepted> {
      if (idempotencyKey === null) return placeNew(playerId, request, null);
      if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
        return Promise.reject(
          new BetRefused("invalid", "Idempotency-Key must be 1-64 letters, digits or ._:-", [{ path: "/headers/idempotency-key", message: "invalid" }]),
        );
      }
      const earlier = bets.byIdempotencyKey(playerId, idempotencyKey);
      if (earlier instanceof Promise) return earlier.then((row) => (row ? acceptedAnswer(row) : placeOnce(playerId, request, idempotencyKey)));
      if (earlier) return Promise.resolve(acceptedAnswer(earlier));
      return placeOnce(playerId, request, idempotencyKey);
    },
  };
}

/**
 * The bet placement service (see `createBetPlacement`).
 *
 * ```ts
 * const placement: BetPlacement = createBetPlacement(parts);
 * ```
 */
export type BetPlacement = ReturnType<typeof createBetPlacement>;
