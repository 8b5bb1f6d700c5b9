import { Type as t, type Static } from "@sinclair/typebox";

/**
 * A grid cell: a time window (ms since the epoch) and a price band. Prices and
 * stakes carry at most two decimals; that rule is checked beside the schema
 * (`toCents`), because JSON Schema `multipleOf: 0.01` misjudges binary floats
 * such as 0.07.
 *
 * ```ts
 * const cell: Cell = { t_start: 1_767_225_600_000, t_end: 1_767_225_605_000, price_low: 87_410, price_high: 87_420 };
 * ```
 */
export const Cell = t.Object(
  {
    t_start: t.Integer({ minimum: 0, description: "window start, ms since the epoch" }),
    t_end: t.Integer({ minimum: 0, description: "window end, ms since the epoch" }),
    price_low: t.Number({ exclusiveMinimum: 0, maximum: 100_000_000 }),
    price_high: t.Number({ exclusiveMinimum: 0, maximum: 100_000_000 }),
  },
  { additionalProperties: false },
);
export type Cell = Static<typeof Cell>;

/**
 * The highest multiplier a request may name: the most `MAX_MULTIPLIER` may be
 * configured to (the API refuses a `min_multiplier` above the one it runs with).
 *
 * ```ts
 * Value.Check(BetRequest, { cell, amount: 1, min_multiplier: MULTIPLIER_CEILING + 1 }); // false
 * ```
 */
export const MULTIPLIER_CEILING = 10_000;

/**
 * A quote id as `GET /api/grid` hands it out, kept with the bet for audit.
 *
 * ```ts
 * Value.Check(QuoteId, "mjuohs00-1"); // true
 * ```
 */
export const QuoteId = t.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9._:-]+$" });

/**
 * `POST /api/bets`. The player comes from the bearer token; the server prices the cell itself.
 *
 * `min_multiplier` is slippage protection: the multiplier the player saw. The
 * bet is accepted at the cell's **current** multiplier when that is at least
 * `min_multiplier` (at most two decimals), and refused with 409
 * `quote_changed` and the current multiplier otherwise. Without it the bet is
 * accepted at whatever the current multiplier is. `quote_id` names the grid
 * the multiplier came from; it is stored with the bet and binds nothing.
 *
 * ```ts
 * const request: BetRequest = { cell, amount: 2.5, min_multiplier: 2.43, quote_id: "mjuohs00-1" };
 * ```
 */
export const BetRequest = t.Object(
  {
    cell: Cell,
    amount: t.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
    min_multiplier: t.Optional(t.Number({ exclusiveMinimum: 1, maximum: MULTIPLIER_CEILING, description: "the lowest multiplier the player accepts" })),
    quote_id: t.Optional(QuoteId),
  },
  { additionalProperties: false, examples: [{ cell: { t_start: 1_767_225_605_000, t_end: 1_767_225_610_000, price_low: 87_420, price_high: 87_430 }, amount: 2.5, min_multiplier: 3.2, quote_id: "mjuohs00-1" }] },
);
export type BetRequest = Static<typeof BetRequest>;

/**
 * 202: the bet is stored and the stake debited.
 *
 * ```ts
 * const accepted: BetAccepted = { status: "accepted", bet_id: "0192f0c4-7a1e-7c3d-9b2a-5d6e7f8a9b0c", multiplier: 3.2, potential_payout: 8, balance: 997.5 };
 * ```
 */
export const BetAccepted = t.Object(
  {
    status: t.Literal("accepted"),
    bet_id: t.String(),
    multiplier: t.Number(),
    potential_payout: t.Number(),
    balance: t.Number(),
  },
  { examples: [{ status: "accepted", bet_id: "0192f0c4-7a1e-7c3d-9b2a-5d6e7f8a9b0c", multiplier: 3.2, potential_payout: 8, balance: 997.5 }] },
);
export type BetAccepted = Static<typeof BetAccepted>;

/**
 * Where a bet stands: `open` until its window is judged, then `won`, `lost` or `void`.
 *
 * ```ts
 * const status: BetStatus = "won";
 * ```
 */
export const BetStatus = t.Union([t.Literal("open"), t.Literal("won"), t.Literal("lost"), t.Literal("void")]);
export type BetStatus = Static<typeof BetStatus>;

/** One settled bet, as the examples of `BetView` and `BetPage` show it. */
const BET_VIEW_EXAMPLE = {
  bet_id: "0192f0c4-7a1e-7c3d-9b2a-5d6e7f8a9b0c",
  status: "won",
  amount: 2.5,
  multiplier: 3.2,
  potential_payout: 8,
  payout: 8,
  cell: { t_start: 1_767_225_605_000, t_end: 1_767_225_610_000, price_low: 87_420, price_high: 87_430 },
  created_at: 1_767_225_598_000,
  settled_at: 1_767_225_610_120,
  quote_id: "mjuohs00-1",
};

/**
 * A bet as its player sees it; `settled_at` is null while it is open. The API
 * always sends `quote_id`: the one the bet carried, or null.
 *
 * ```ts
 * const bet: BetView = {
 *   bet_id: "0192f0c4-7a1e-7c3d-9b2a-5d6e7f8a9b0c", status: "open", amount: 2.5, multiplier: 3.2,
 *   potential_payout: 8, payout: 0, cell, created_at: 1_767_225_598_000, settled_at: null, quote_id: "mjuohs00-1",
 * };
 * ```
 */
export const BetView = t.Object(
  {
    bet_id: t.String(),
    status: BetStatus,
    amount: t.Number(),
    multiplier: t.Number(),
    potential_payout: t.Number(),
    payout: t.Number(),
    cell: Cell,
    created_at: t.Integer(),
    settled_at: t.Union([t.Integer(), t.Null()]),
    // Optional in the type only so that views built before quotes still type-check.
    quote_id: t.Optional(t.Union([QuoteId, t.Null()])),
  },
  { examples: [BET_VIEW_EXAMPLE] },
);
export type BetView = Static<typeof BetView>;

/**
 * `GET /api/bets`: newest first; pass `next_before` as `before` for the next page
 * (null on the last page).
 *
 * ```ts
 * const page: BetPage = { bets: [bet], next_before: null };
 * ```
 */
export const BetPage = t.Object(
  {
    bets: t.Array(BetView),
    next_before: t.Union([t.String(), t.Null()]),
  },
  { examples: [{ bets: [BET_VIEW_EXAMPLE], next_before: null }] },
);
export type BetPage = Static<typeof BetPage>;

/**
 * The query of `GET /api/bets`. Query strings arrive as text: `limit` is 1–100
 * written in digits.
 *
 * ```ts
 * const query: BetListQuery = { status: "open", limit: "50", before: "0192f0c4-7a1e-7c3d-9b2a-5d6e7f8a9b0c" };
 * ```
 */
export const BetListQuery = t.Object(
  {
    status: t.Optional(BetStatus),
    limit: t.Optional(t.String({ pattern: "^(100|[1-9][0-9]?)$", description: "1 to 100, default 20" })),
    before: t.Optional(t.String({ minLength: 1, maxLength: 64, pattern: "^[0-9a-f-]+$" })),
  },
  { additionalProperties: false },
);
export type BetListQuery = Static<typeof BetListQuery>;
