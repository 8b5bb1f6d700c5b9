import { Type as t, type Static } from "@sinclair/typebox";

export const GridCell = t.Object({
  t_start: t.Integer(),
  t_end: t.Integer(),
  price_low: t.Number(),
  price_high: t.Number(),
  multiplier: t.Number(),
  locked: t.Boolean(),
});
export type GridCell = Static<typeof GridCell>;

/**
 * The priced grid (`GET /api/grid`, and the websocket `grid` channel about once
 * a second). `sigma` is the volatility the prices use: the standard deviation
 * of the log-price change over one second.
 */
export const Grid = t.Object({
  ts: t.Integer({ description: "when the grid was priced, ms since the epoch" }),
  price: t.Number(),
  price_ts: t.Integer({ description: "the time of the tick the grid is priced from" }),
  sigma: t.Number(),
  quote_id: t.String(),
  expires_at: t.Integer(),
  column_ms: t.Integer(),
  band: t.Number(),
  lock_ms: t.Integer(),
  house_edge: t.Number(),
  cells: t.Array(GridCell),
});
export type Grid = Static<typeof Grid>;

/** The grid as pushed on the websocket. */
export const GridMessage = t.Object({ type: t.Literal("grid"), grid: Grid });
export type GridMessage = Static<typeof GridMessage>;
