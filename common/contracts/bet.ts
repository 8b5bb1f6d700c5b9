import { Type as t, type Static } from "@sinclair/typebox";

/**
 * A grid cell: a time window (ms since the epoch) and a price band. Prices and
 * stakes carry at most two decimals; that rule is checked beside the schema
 * (`toCents`), because JSON Schema `multipleOf: 0.01` misjudges binary floats
 * such as 0.07.
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

/** `POST /api/bets`. The player comes from the bearer token; the server prices the cell itself. */
export const BetRequest = t.Object(
  {
    cell: Cell,
    amount: t.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
  },
  { additionalProperties: false },
);
export type BetRequest = Static<typeof BetRequest>;

/** 202: the bet is stored and the stake debited. */
export const BetAccepted = t.Object({
  status: t.Literal("accepted"),
  bet_id: t.String(),
  multiplier: t.Number(),
  potential_payout: t.Number(),
  balance: t.Number(),
});
export type BetAccepted = Static<typeof BetAccepted>;

export const BetStatus = t.Union([t.Literal("open"), t.Literal("won"), t.Literal("lost"), t.Literal("void")]);
export type BetStatus = Static<typeof BetStatus>;

/** A bet as its player sees it. */
export const BetView = t.Object({
  bet_id: t.String(),
  status: BetStatus,
  amount: t.Number(),
  multiplier: t.Number(),
  potential_payout: t.Number(),
  payout: t.Number(),
  cell: Cell,
  created_at: t.Integer(),
  settled_at: t.Union([t.Integer(), t.Null()]),
});
export type BetView = Static<typeof BetView>;

/** `GET /api/bets`: newest first; pass `next_before` as `before` for the next page. */
export const BetPage = t.Object({
  bets: t.Array(BetView),
  next_before: t.Union([t.String(), t.Null()]),
});
export type BetPage = Static<typeof BetPage>;

/** Query strings arrive as text: `limit` is 1–100 written in digits. */
export const BetListQuery = t.Object(
  {
    status: t.Optional(BetStatus),
    limit: t.Optional(t.String({ pattern: "^(100|[1-9][0-9]?)$", description: "1 to 100, default 20" })),
    before: t.Optional(t.String({ minLength: 1, maxLength: 64, pattern: "^[0-9a-f-]+$" })),
  },
  { additionalProperties: false },
);
export type BetListQuery = Static<typeof BetListQuery>;
