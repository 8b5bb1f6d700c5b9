import { Type as t, type Static } from "@sinclair/typebox";

/** Largest stake accepted in one bet, in currency units. */
export const MAX_STAKE = 100_000;

/**
 * A grid cell: a time window and a price band. Prices and stakes carry at most two
 * decimals; that rule is checked beside the schema (`toCents`), because JSON Schema
 * `multipleOf: 0.01` misjudges binary floats such as 0.07.
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

export const BetRequest = t.Object(
  {
    user_id: t.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_.:-]+$" }),
    amount: t.Number({ exclusiveMinimum: 0, maximum: MAX_STAKE }),
    cell: Cell,
  },
  { additionalProperties: false },
);
export type BetRequest = Static<typeof BetRequest>;

export const BetAccepted = t.Object({
  status: t.Literal("accepted"),
  bet_id: t.String(),
  message: t.String(),
});
export type BetAccepted = Static<typeof BetAccepted>;
