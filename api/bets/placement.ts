import type { BetAccepted, BetRequest } from "../../common/contracts/bet.ts";
import type { ErrorDetail } from "../../common/contracts/error.ts";
import { fromCents, toCents } from "../../common/money.ts";
import type { GridService } from "../grid/grid-service.ts";
import { HttpError } from "../http/http-error.ts";
import type { RateLimiter } from "../http/rate-limiter.ts";
import type { BetOrder, BetRow, BetStore, PlaceOutcome } from "./bet-store.ts";
import { potentialPayoutCents } from "./bet-store.ts";
import type { Exposure } from "./exposure.ts";
import type { GroupCommitter } from "./group-commit.ts";

/** An Idempotency-Key is kept only when short and plain. */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,64}$/;

export interface PlacementParts {
  grid: GridService;
  exposure: Exposure;
  bets: Pick<BetStore, "byIdempotencyKey">;
  commits: GroupCommitter<BetOrder, PlaceOutcome>;
  limiter: RateLimiter;
  minStakeCents: number;
  maxStakeCents: number;
  /** Told of each newly stored bet (settlement takes it from here). */
  onPlaced?: (bet: BetRow) => void;
  now?: () => number;
}

/** The 202 answer for a stored bet; the same for the first request and every retry of it. */
export function acceptedAnswer(bet: BetRow): BetAccepted {
  return {
    status: "accepted",
    bet_id: bet.id,
    multiplier: bet.multiplier_centi / 100,
    potential_payout: fromCents(potentialPayoutCents(bet.stake_cents, bet.multiplier_centi)),
    balance: fromCents(bet.balance_after_cents),
  };
}

/**
 * Placing a bet, with no HTTP in it: checks the stake and the cell, prices the
 * cell itself at acceptance, reserves the bet's share of the limits, and has
 * the bet committed (debit and bet in one transaction) before answering.
 * Throws `HttpError` for every refusal.
 */
export function createBetPlacement({ grid, exposure, bets, commits, limiter, minStakeCents, maxStakeCents, onPlaced = () => {}, now = Date.now }: PlacementParts) {
  // Requests with the same key at the same moment share one answer.
  const inFlight = new Map<string, Promise<BetAccepted>>();

  const placeNew = async (playerId: string, request: BetRequest, idempotencyKey: string | null): Promise<BetAccepted> => {
    const at = now();
    const limited = limiter.take(playerId, at);
    if (!limited.ok) {
      throw new HttpError(429, "rate_limited", "too many bets; slow down", [], { "retry-after": String(Math.ceil(limited.retryAfterMs / 1000)) });
    }
    const problems: ErrorDetail[] = [];
    const stakeCents = toCents(request.amount);
    const lowCents = toCents(request.cell.price_low);
    const highCents = toCents(request.cell.price_high);
    if (stakeCents === undefined) problems.push({ path: "/amount", message: "must have at most two decimal places" });
    if (lowCents === undefined) problems.push({ path: "/cell/price_low", message: "must have at most two decimal places" });
    if (highCents === undefined) problems.push({ path: "/cell/price_high", message: "must have at most two decimal places" });
    if (stakeCents === undefined || lowCents === undefined || highCents === undefined) {
      throw new HttpError(400, "validation_failed", "bet is not valid", problems);
    }
    if (stakeCents < minStakeCents || stakeCents > maxStakeCents) {
      throw new HttpError(409, "limit_exceeded", `stake must be between ${fromCents(minStakeCents)} and ${fromCents(maxStakeCents)}`, [
        { path: "/amount", message: stakeCents < minStakeCents ? "below the minimum stake" : "above the maximum stake" },
      ]);
    }
    const cell = { t_start: request.cell.t_start, t_end: request.cell.t_end, lowCents, highCents };
    const verdict = grid.judge(cell, at);
    if (!verdict.ok) {
      if (verdict.reason === "cell_locked") throw new HttpError(409, "cell_locked", "this cell's window starts too soon or has started");
      if (verdict.reason === "no_price") throw new HttpError(503, "unavailable", "no fresh price to quote from", [], { "retry-after": "1" });
      throw new HttpError(400, "off_grid", "this cell is not on the grid", [{ path: "/cell", message: "not a cell the grid offers now" }]);
    }
    const multiplierCenti = Math.round(verdict.multiplier * 100);
    const entry = { playerId, tStart: cell.t_start, lowCents, stakeCents, multiplierCenti };
    const reserved = exposure.reserve(entry);
    if (!reserved.ok) throw new HttpError(409, "limit_exceeded", `bet would exceed a limit: ${reserved.limit}`, [{ path: "/", message: reserved.limit }]);

    let outcome: PlaceOutcome;
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
      });
    } catch (error) {
      exposure.release(entry);
      throw error;
    }
    switch (outcome.kind) {
      case "placed":
        onPlaced(outcome.bet);
        return acceptedAnswer(outcome.bet);
      case "replayed":
        exposure.release(entry);
        return acceptedAnswer(outcome.bet);
      case "insufficient_funds":
        exposure.release(entry);
        throw new HttpError(409, "insufficient_funds", `balance ${fromCents(outcome.balanceCents)} is less than the stake`);
      case "unknown_player":
        exposure.release(entry);
        throw new HttpError(401, "unauthorized", "no such player");
      default:
        throw new TypeError(`unhandled outcome ${(outcome satisfies never as { kind: string }).kind}`);
    }
  };

  return {
    /** Places a bet for `playerId`; resolves with the 202 answer once the bet is on disk. */
    place(playerId: string, request: BetRequest, idempotencyKey: string | null): Promise<BetAccepted> {
      if (idempotencyKey === null) return placeNew(playerId, request, null);
      if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
        return Promise.reject(
          new HttpError(400, "validation_failed", "Idempotency-Key must be 1-64 letters, digits or ._:-", [{ path: "/headers/idempotency-key", message: "invalid" }]),
        );
      }
      const earlier = bets.byIdempotencyKey(playerId, idempotencyKey);
      if (earlier) return Promise.resolve(acceptedAnswer(earlier));
      const key = `${playerId}\u0000${idempotencyKey}`;
      const pending = inFlight.get(key);
      if (pending) return pending;
      const answer = placeNew(playerId, request, idempotencyKey).finally(() => inFlight.delete(key));
      inFlight.set(key, answer);
      return answer;
    },
  };
}

export type BetPlacement = ReturnType<typeof createBetPlacement>;
