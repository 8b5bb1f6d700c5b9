/**
 * The websocket's compact grid (`CompactGrid`) and back. A grid's cells form a
 * rectangle of columns (time windows) × bands (price bands): the compact form
 * sends its corners once and each cell's values as flat arrays, about a tenth
 * of the `Grid`'s JSON, pushed to every subscriber every second.
 *
 * @module
 */
import type { CompactGrid, Grid, GridCell } from "./contracts/grid.ts";

/** rtp has 4 decimals (build-grid.ts rounds it down so), sent as an integer of ten-thousandths. */
const RTP_SCALE = 10_000;

/** Dollars to cents, exact for amounts with at most two places (as the grid's bands are). */
const cents = (dollars: number) => Math.round(dollars * 100);

/** The same division as common/money.ts's `fromCents`, so the dollars come back bit for bit. */
const dollars = (cents: number) => cents / 100;

/**
 * The grid in its compact form. Throws a `RangeError` when its cells do not
 * sit on one rectangle the compact form can give back exactly: a cell off the
 * columns or bands, two on one spot, out of order (column by column, bands
 * from the lowest), a column half locked, or an rtp with more than 4 decimals.
 * Grids the API builds (api/grid/build-grid.ts) always fit.
 *
 * ```ts
 * const compact = compactGrid(grid);
 * JSON.stringify(compact).length; // ~3 KB for the default 12 × 21 grid, against ~37 KB
 * ```
 */
export function compactGrid(grid: Grid): CompactGrid {
  const { cells, ...fields } = grid;
  const bandCents = cents(grid.band);
  const first = cells[0];
  const firstStart = first ? Math.min(...cells.map((cell) => cell.t_start)) : 0;
  const lowestCents = first ? Math.min(...cells.map((cell) => cents(cell.price_low))) : 0;
  const lastStart = first ? Math.max(...cells.map((cell) => cell.t_start)) : 0;
  const highestCents = first ? Math.max(...cells.map((cell) => cents(cell.price_low))) : 0;
  const columns = first ? (lastStart - firstStart) / grid.column_ms + 1 : 0;
  const bands = first ? (highestCents - lowestCents) / bandCents + 1 : 0;
  if (!Number.isSafeInteger(columns) || !Number.isSafeInteger(bands)) throw new RangeError("the grid's cells are not on whole columns and bands");

  const size = columns * bands;
  const multipliers = new Array<number>(size).fill(0);
  const rtp = new Array<number>(size).fill(0);
  const offered = new Array<string>(size).fill("0");
  const locked = new Array<boolean | undefined>(columns).fill(undefined);
  let previous = -1;
  for (const cell of cells) {
    const column = (cell.t_start - firstStart) / grid.column_ms;
    const lowCents = cents(cell.price_low);
    const band = (lowCents - lowestCents) / bandCents;
    const at = column * bands + band;
    const rtpE4 = Math.round(cell.rtp * RTP_SCALE);
    const fits =
      cell.t_end === cell.t_start + grid.column_ms &&
      dollars(lowCents) === cell.price_low &&
      dollars(lowCents + bandCents) === cell.price_high &&
      rtpE4 / RTP_SCALE === cell.rtp &&
      cell.multiplier > 0 &&
      (locked[column] === undefined || locked[column] === cell.locked);
    if (!fits) throw new RangeError(`cell ${JSON.stringify(cell)} does not fit the compact grid`);
    // In order and each spot once, so that expanding gives the same list back.
    if (at <= previous) throw new RangeError(`cell ${JSON.stringify(cell)} is out of order or repeated`);
    previous = at;
    locked[column] = cell.locked;
    multipliers[at] = cell.multiplier;
    rtp[at] = rtpE4;
    offered[at] = cell.offered ? "1" : "0";
  }
  return {
    ...fields,
    first_t_start: firstStart,
    columns,
    first_price_low: dollars(lowestCents),
    bands,
    locked: locked.map((value) => (value ? "1" : "0")).join(""),
    multipliers,
    rtp_e4: rtp,
    offered: offered.join(""),
  };
}

/**
 * Why a compact grid's parts do not agree (the lengths of its arrays and
 * strings against `columns` × `bands`), or undefined when they do. A schema
 * check (`CompactGrid`) cannot say this; `expandGrid` throws with it.
 *
 * ```ts
 * compactGridMismatch({ ...compact, offered: "1" }); // "offered has 1 cells, not 252"
 * ```
 */
export function compactGridMismatch(compact: CompactGrid): string | undefined {
  const size = compact.columns * compact.bands;
  if (!Number.isSafeInteger(size) || size < 0) return `columns × bands is not a count: ${compact.columns} × ${compact.bands}`;
  if (typeof compact.locked !== "string" || compact.locked.length !== compact.columns) return `locked has ${compact.locked?.length} columns, not ${compact.columns}`;
  for (const name of ["multipliers", "rtp_e4", "offered"] as const) {
    const values = compact[name];
    if ((typeof values !== "string" && !Array.isArray(values)) || values.length !== size) return `${name} has ${values?.length} cells, not ${size}`;
  }
  if (size > 0 && !(compact.column_ms > 0 && cents(compact.band) > 0)) return "a grid with cells needs a column_ms and a band above 0";
  return undefined;
}

/**
 * The `Grid` a compact grid stands for: `expandGrid(compactGrid(grid))`
 * deep-equals `grid`. Throws a `RangeError` when its parts do not agree
 * (`compactGridMismatch`).
 *
 * ```ts
 * const grid = expandGrid(JSON.parse(message).grid); // a websocket `grid` message
 * grid.cells.filter((cell) => cell.offered && !cell.locked); // what a player can tap
 * ```
 */
export function expandGrid(compact: CompactGrid): Grid {
  const mismatch = compactGridMismatch(compact);
  if (mismatch) throw new RangeError(`not a compact grid: ${mismatch}`);
  const { first_t_start, columns, first_price_low, bands, locked, multipliers, rtp_e4, offered, ...fields } = compact;
  const bandCents = cents(compact.band);
  const lowestCents = cents(first_price_low);
  const cells: GridCell[] = [];
  for (let column = 0; column < columns; column++) {
    const t_start = first_t_start + column * compact.column_ms;
    for (let band = 0; band < bands; band++) {
      const at = column * bands + band;
      const multiplier = multipliers[at]!;
      if (multiplier === 0) continue;
      const lowCents = lowestCents + band * bandCents;
      cells.push({
        t_start,
        t_end: t_start + compact.column_ms,
        price_low: dollars(lowCents),
        price_high: dollars(lowCents + bandCents),
        multiplier,
        rtp: rtp_e4[at]! / RTP_SCALE,
        offered: offered[at] === "1",
        locked: locked[column] === "1",
      });
    }
  }
  return { ...fields, cells };
}
