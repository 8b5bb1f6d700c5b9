import { Elysia, t } from "elysia";
import { BetAccepted, BetListQuery, BetPage, BetRequest, BetView } from "../../common/contracts/bet.ts";
import { ErrorBody, type ErrorCode } from "../../common/contracts/error.ts";
import { fromCents } from "../../common/money.ts";
import { HttpError } from "../http/http-error.ts";
import { describeRoute } from "../openapi/operation.ts";
import { bearerAuth } from "../sessions/auth.ts";
import type { SessionTokens } from "../../common/sessions/token.ts";
import type { BetOperations } from "../store/store.ts";
import { type BetRow, potentialPayoutCents } from "./bet-store.ts";
import { type BetRefusal, BetRefused } from "./bet-refused.ts";
import type { BetPlacement } from "./placement.ts";

/** A stored bet as its player sees it. */
function betView(bet: BetRow): BetView {
  return {
    bet_id: bet.id,
    status: bet.status,
    amount: fromCents(bet.stake_cents),
    multiplier: bet.multiplier_centi / 100,
    potential_payout: fromCents(potentialPayoutCents(bet.stake_cents, bet.multiplier_centi)),
    payout: fromCents(bet.payout_cents),
    cell: { t_start: bet.t_start, t_end: bet.t_end, price_low: fromCents(bet.price_low_cents), price_high: fromCents(bet.price_high_cents) },
    created_at: bet.created_at,
    settled_at: bet.settled_at,
    quote_id: bet.quote_id,
  };
}

/** Each refusal's place in the error contract. */
const REFUSAL_ANSWERS: Record<BetRefusal, { status: number; code: ErrorCode }> = {
  invalid: { status: 400, code: "validation_failed" },
  off_grid: { status: 400, code: "off_grid" },
  unknown_player: { status: 401, code: "unauthorized" },
  stake_out_of_range: { status: 409, code: "limit_exceeded" },
  limit_exceeded: { status: 409, code: "limit_exceeded" },
  cell_locked: { status: 409, code: "cell_locked" },
  not_offered: { status: 409, code: "not_offered" },
  quote_changed: { status: 409, code: "quote_changed" },
  insufficient_funds: { status: 409, code: "insufficient_funds" },
  rate_limited: { status: 429, code: "rate_limited" },
  no_price: { status: 503, code: "unavailable" },
};

/**
 * A refused bet as the error contract's answer (a `Retry-After` in whole
 * seconds when waiting helps); anything else is rethrown as it is.
 *
 * ```ts
 * refusalAnswer(new BetRefused("cell_locked", "this cell's window starts too soon or has started")); // HttpError 409 cell_locked
 * ```
 */
export function refusalAnswer(error: unknown): unknown {
  if (!(error instanceof BetRefused)) return error;
  const { status, code } = REFUSAL_ANSWERS[error.reason];
  const headers = error.retryAfterMs === undefined ? {} : { "retry-after": String(Math.ceil(error.retryAfterMs / 1000)) };
  return new HttpError(status, code, error.message, error.details, headers);
}

/**
 * The 409 `quote_changed` answer: the error contract plus `current_multiplier`.
 *
 * ```ts
 * quoteChangedBody(new BetRefused("quote_changed", "the multiplier is now 2.38×, below the 2.43× asked", [], { currentMultiplier: 2.38 }), requestId);
 * // { error: { code: "quote_changed", message: "…", details: [], request_id: "…", current_multiplier: 2.38 } }
 * ```
 */
export function quoteChangedBody(refusal: BetRefused, requestId: string): ErrorBody {
  const error: ErrorBody["error"] = { code: "quote_changed", message: refusal.message, details: refusal.details, request_id: requestId };
  if (refusal.currentMultiplier !== undefined) error.current_multiplier = refusal.currentMultiplier;
  return { error };
}

/** Bets per page of `GET /api/bets` when the query names no `limit` (BetListQuery). */
const DEFAULT_PAGE_SIZE = 20;

// What each route can answer besides its success (the shared layer adds 413, 415 and 500: api/openapi/document.ts).
const placeErrors = { 400: ErrorBody, 401: ErrorBody, 409: ErrorBody, 429: ErrorBody, 503: ErrorBody };
const readErrors = { 400: ErrorBody, 401: ErrorBody };

/**
 * `POST /api/bets`, `GET /api/bets` and `GET /api/bets/:id`, all for the player
 * in the bearer token; a refused bet is answered in the error contract.
 *
 * ```ts
 * new Elysia().use(betRoutes({ tokens, placement, bets }));
 * ```
 */
export function betRoutes({ tokens, placement, bets }: { tokens: SessionTokens; placement: BetPlacement; bets: Pick<BetOperations, "get" | "page"> }) {
  return new Elysia({ name: "bets" })
    .use(bearerAuth({ tokens }))
    .post(
      "/api/bets",
      async ({ body, playerId, request, set }) => {
        let answer: BetAccepted;
        try {
          answer = await placement.place(playerId, body, request.headers.get("idempotency-key"));
        } catch (error) {
          if (error instanceof BetRefused && error.reason === "quote_changed") {
            // The one refusal whose answer carries more than the error contract's fields:
            // the multiplier the player may take with one more tap.
            set.status = 409;
            return quoteChangedBody(error, String(set.headers["x-request-id"]));
          }
          throw refusalAnswer(error);
        }
        set.status = 202;
        return answer;
      },
      {
        body: BetRequest,
        response: { 202: BetAccepted, ...placeErrors },
        detail: describeRoute({
          summary: "Place a bet",
          description:
            "A bet on a cell the grid offers now, for the token's player; every amount and price has at most two decimals. 202 once the bet is stored and the stake debited. With min_multiplier (slippage protection) the bet is accepted at the cell's current multiplier when it is at least that, else 409 quote_changed carrying current_multiplier. A refusal debits nothing.",
          tags: ["bets"],
          bearer: true,
          errors: {
            400: ["validation_failed", "off_grid"],
            401: ["unauthorized"],
            409: ["cell_locked", "not_offered", "quote_changed", "insufficient_funds", "limit_exceeded"],
          },
          parameters: [
            {
              name: "Idempotency-Key",
              in: "header",
              required: false,
              description: "Makes a retry return the first answer and never debit twice; kept when 1–64 of A-Z a-z 0-9 . _ : -.",
              schema: { type: "string", maxLength: 64, pattern: "^[A-Za-z0-9._:-]{1,64}$" },
            },
          ],
        }),
      },
    )
    .get(
      "/api/bets",
      async ({ query, playerId }) => {
        const limit = query.limit === undefined ? DEFAULT_PAGE_SIZE : Number(query.limit);
        const page = await bets.page(playerId, { limit: limit + 1, ...(query.before ? { before: query.before } : {}), ...(query.status ? { status: query.status } : {}) });
        const more = page.length > limit;
        const shown = more ? page.slice(0, limit) : page;
        return { bets: shown.map(betView), next_before: more ? (shown.at(-1)?.id ?? null) : null };
      },
      {
        query: BetListQuery,
        response: { 200: BetPage, ...readErrors },
        detail: describeRoute({ summary: "My bets", description: "The token's player's bets, newest first, a page at a time: pass next_before as before for the next page.", tags: ["bets"], bearer: true }),
      },
    )
    .get(
      "/api/bets/:id",
      async ({ params, playerId }) => {
        const bet = await bets.get(playerId, params.id);
        // Someone else's bet is as absent as one that never existed.
        if (!bet) throw new HttpError(404, "not_found", "no such bet");
        return betView(bet);
      },
      {
        params: t.Object({ id: t.String({ maxLength: 64 }) }),
        response: { 200: BetView, ...readErrors, 404: ErrorBody },
        detail: describeRoute({ summary: "One of my bets", description: "404 for a bet that is not the token's player's, as for one that never existed.", tags: ["bets"], bearer: true }),
      },
    );
}
