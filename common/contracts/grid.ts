import { Type as t, type Static } from "@sinclair/typebox";

/**
 * One cell of the grid: a `Cell` with the multiplier it pays if the price
 * touches its band within its window (a quote: the lower of its price now and
 * a moment later, so a tap made soon holds), its expected return to the player
 * (`rtp`: the multiplier a bet would get now × the chance of a touch under the
 * pricing model, which can be above `multiplier` × that chance), whether it is
 * offered (`rtp` at least the grid's `min_rtp` and its fair multiplier not
 * above the cap; a cell not offered is refused with 409 `not_offered`), and
 * whether it is locked (its window starts within `lock_ms`, too soon to bet on).
 *
 * ```ts
 * const gridCell: GridCell = { t_start: 1_767_225_605_000, t_end: 1_767_225_610_000, price_low: 87_420, price_high: 87_430, multiplier: 3.2, rtp: 0.9472, offered: true, locked: false };
 * ```
 */
export const GridCell = t.Object({
  t_start: t.Integer(),
  t_end: t.Integer(),
  price_low: t.Number(),
  price_high: t.Number(),
  multiplier: t.Number(),
  rtp: t.Number({
    minimum: 0,
    maximum: 1,
    description: "expected return per unit staked under the pricing model at the multiplier a bet would get now, which can be above the shown (conservative) multiplier; rounded down to 4 decimals",
  }),
  offered: t.Boolean({ description: "false when rtp is below the grid's min_rtp or the fair multiplier is above the cap: shown, but refused with 409 not_offered" }),
  locked: t.Boolean(),
});
export type GridCell = Static<typeof GridCell>;

/** A grid of two cells, as the examples of `Grid` and `GridMessage` show it. */
const GRID_EXAMPLE = {
  ts: 1_767_225_600_000,
  price: 87_415.3,
  price_ts: 1_767_225_599_900,
  sigma: 0.0004,
  quote_id: "mjuohs00-1",
  expires_at: 1_767_225_601_000,
  column_ms: 5000,
  band: 10,
  lock_ms: 2000,
  house_edge: 0.05,
  min_rtp: 0.9,
  cells: [
    { t_start: 1_767_225_600_000, t_end: 1_767_225_605_000, price_low: 87_410, price_high: 87_420, multiplier: 1.9, rtp: 0.9493, offered: true, locked: true },
    { t_start: 1_767_225_605_000, t_end: 1_767_225_610_000, price_low: 87_420, price_high: 87_430, multiplier: 3.2, rtp: 0.9472, offered: true, locked: false },
  ],
};

/** The fields a `Grid` and a `CompactGrid` share: everything but the cells. */
const gridFields = {
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
  min_rtp: t.Number({ description: "the least expected return of an offered cell (MIN_RTP)" }),
};

/**
 * The priced grid (`GET /api/grid`; the websocket pushes the same grid about
 * once a second as a `CompactGrid`). `sigma` is the volatility the prices use:
 * the standard deviation of the log-price change over one second.
 *
 * ```ts
 * const grid: Grid = {
 *   ts: 1_767_225_600_000, price: 87_415.3, price_ts: 1_767_225_599_900, sigma: 0.0004,
 *   quote_id: "mjuohs00-1", expires_at: 1_767_225_601_000, column_ms: 5000, band: 10,
 *   lock_ms: 2000, house_edge: 0.05, min_rtp: 0.9, cells: [gridCell],
 * };
 * ```
 */
export const Grid = t.Object({ ...gridFields, cells: t.Array(GridCell) }, { examples: [GRID_EXAMPLE] });
export type Grid = Static<typeof Grid>;

/** `GRID_EXAMPLE` compacted: its two cells on a rectangle of 2 columns × 2 bands, the two cells not on the diagonal absent. */
const { cells: _exampleCells, ...GRID_EXAMPLE_FIELDS } = GRID_EXAMPLE;
const COMPACT_GRID_EXAMPLE = {
  ...GRID_EXAMPLE_FIELDS,
  first_t_start: 1_767_225_600_000,
  columns: 2,
  first_price_low: 87_410,
  bands: 2,
  locked: "10",
  multipliers: [1.9, 0, 0, 3.2],
  rtp_e4: [9493, 0, 0, 9472],
  offered: "1001",
};

/**
 * The priced grid as the websocket pushes it: the `Grid`'s fields but its
 * cells, which form a rectangle of `columns` windows × `bands` price bands
 * and go as flat arrays, about a twelfth of the `Grid`'s JSON (the layout:
 * `GridMessage`). `expandGrid` (common/grid-codec.ts) gives back the `Grid`
 * exactly.
 *
 * ```ts
 * const compact: CompactGrid = compactGrid(grid); // common/grid-codec.ts
 * expandGrid(compact); // deep-equals grid
 * ```
 */
export const CompactGrid = t.Object(
  {
    ...gridFields,
    first_t_start: t.Integer({ description: "the first column's start, ms since the epoch" }),
    columns: t.Integer({ minimum: 0 }),
    first_price_low: t.Number({ description: "the lowest band's low edge" }),
    bands: t.Integer({ minimum: 0 }),
    locked: t.String({ pattern: "^[01]*$", description: "one character per column: 1 when its cells are locked" }),
    multipliers: t.Array(t.Number({ minimum: 0 }), { description: "one per cell (columns × bands); 0 where the grid shows no cell" }),
    rtp_e4: t.Array(t.Integer({ minimum: 0, maximum: 10_000 }), { description: "each cell's rtp × 10,000 (rtp has 4 decimals); 0 where no cell" }),
    offered: t.String({ pattern: "^[01]*$", description: "one character per cell: 1 when offered" }),
  },
  { examples: [COMPACT_GRID_EXAMPLE] },
);
export type CompactGrid = Static<typeof CompactGrid>;

/**
 * The priced grid (as `GET /api/grid` serves it), pushed about once a second
 * in a compact form: its cells form a rectangle of `columns` time windows ×
 * `bands` price bands, sent as flat arrays instead of one object per cell.
 *
 * Column `c` (from 0) runs from `first_t_start + c × column_ms` to
 * `column_ms` later; band `b` (from 0) runs from `first_price_low + b × band`
 * to `band` higher (add in cents, dollars × 100, to get the exact figures).
 * The per-cell values (`multipliers`, `rtp_e4`, `offered`) run column by
 * column, each column's bands from the lowest: column `c`, band `b` is at
 * `c × bands + b`. A multiplier of 0 means the grid shows no cell there. A
 * cell's `rtp` is `rtp_e4 / 10000` (its return at the multiplier a bet would
 * get now, which can be above the quote in `multipliers`), it is offered when
 * its character in `offered` is `1`, and locked when its column's character in
 * `locked` is `1`. The page reads it with `expandGrid` (common/grid-codec.ts), which
 * gives back the `Grid` exactly.
 *
 * ```ts
 * const message: GridMessage = { type: "grid", grid: compactGrid(grid) };
 * ```
 */
export const GridMessage = t.Object({ type: t.Literal("grid"), grid: CompactGrid }, { examples: [{ type: "grid", grid: COMPACT_GRID_EXAMPLE }] });
export type GridMessage = Static<typeof GridMessage>;
