import type { Cell } from "../../common/contracts/bet.ts";
import type { Grid } from "../../common/contracts/grid.ts";

/**
 * The grid's geometry, as the server's priced grid states it; the chart and the scales draw with it.
 *
 * ```ts
 * const spec: GridSpec = { columnMs: 5000, bandSize: 10, lockMs: 2000 };
 * ```
 */
export interface GridSpec {
  /** Length of one column's time window, ms. */
  columnMs: number;
  /** Height of one row's price band, in price units. */
  bandSize: number;
  /** A cell whose window starts sooner than this (ms) cannot be bet on. */
  lockMs: number;
  /** The least expected return of an offered cell (the grid's `min_rtp`), once a grid said it. */
  minRtp?: number;
}

/**
 * The geometry until the first grid arrives (the API's defaults).
 *
 * ```ts
 * isLocked(cell, Date.now(), DEFAULT_GRID);
 * ```
 */
export const DEFAULT_GRID: GridSpec = { columnMs: 5000, bandSize: 10, lockMs: 2000 };

/**
 * A priced cell plus the key that names it in maps and the DOM.
 *
 * ```ts
 * const cell: GridCell = { key: "10000:4201000", t_start: 10_000, t_end: 15_000, price_low: 42_010, price_high: 42_020, multiplier: 2.35, rtp: 0.9466, offered: true, locked: false };
 * ```
 */
export interface GridCell extends Cell {
  key: string;
  multiplier: number;
  /** Its expected return per unit staked under the pricing model, at the multiplier a bet would get now (which can be above `multiplier`, a conservative quote). */
  rtp: number;
  /** False when that return is below the grid's `min_rtp`, or its fair multiplier above the cap: shown greyed, never taken. */
  offered: boolean;
  /** Locked by the server when it priced the grid; the page also locks by the clock (`isLocked`). */
  locked: boolean;
}

/**
 * The key of the cell starting at `tStart` whose band starts at `low`, in whole cents so float noise never splits a cell.
 *
 * ```ts
 * cellKey(10_000, 42_010); // "10000:4201000"
 * ```
 */
export function cellKey(tStart: number, low: number): string {
  return `${tStart}:${Math.round(low * 100)}`;
}

/** The geometry a grid was built with. */
function specOf(grid: Grid): GridSpec {
  return { columnMs: grid.column_ms, bandSize: grid.band, lockMs: grid.lock_ms, minRtp: grid.min_rtp };
}

/**
 * True once the cell's window starts within `lockMs` of `now` (or has started): too late to bet.
 *
 * ```ts
 * isLocked({ t_start: 10_000, t_end: 15_000, price_low: 42_010, price_high: 42_020 }, 9_000, DEFAULT_GRID); // true
 * ```
 */
export function isLocked(cell: Cell, now: number, spec: GridSpec): boolean {
  return cell.t_start - now < spec.lockMs;
}

/**
 * The page's copy of the priced grid.
 *
 * ```ts
 * const grid: PricedGrid = createPricedGrid();
 * ```
 */
export interface PricedGrid {
  /** Takes a grid from the websocket or `GET /api/grid`; an older one than held is ignored. */
  update(grid: Grid): void;
  /** The cells to draw: the newest grid's, plus earlier columns (locked) until their window has passed `now`. */
  cells(now: number): readonly GridCell[];
  cell(key: string): GridCell | undefined;
  /** The newest grid received, if any. */
  latest(): Grid | undefined;
  spec(): GridSpec;
}

/**
 * Holds the latest priced grid. The server offers only columns that have not
 * started; the column under way stays on screen from the grid before, locked,
 * so the board does not jump when a window opens.
 *
 * ```ts
 * const grid = createPricedGrid();
 * grid.update(gridFromServer);
 * grid.cells(Date.now()).map((c) => c.multiplier);
 * ```
 */
export function createPricedGrid(): PricedGrid {
  let latest: Grid | undefined;
  let spec = DEFAULT_GRID;
  let cells = new Map<string, GridCell>();
  let list: GridCell[] = [];

  return {
    update(grid) {
      if (latest && grid.ts < latest.ts) return;
      latest = grid;
      spec = specOf(grid);
      const firstStart = Math.min(...grid.cells.map((c) => c.t_start), grid.ts + grid.column_ms);
      const next = new Map<string, GridCell>();
      for (const [key, cell] of cells) {
        if (cell.t_start < firstStart && cell.t_end > grid.ts) next.set(key, { ...cell, locked: true });
      }
      for (const c of grid.cells) {
        const key = cellKey(c.t_start, c.price_low);
        next.set(key, { key, t_start: c.t_start, t_end: c.t_end, price_low: c.price_low, price_high: c.price_high, multiplier: c.multiplier, rtp: c.rtp, offered: c.offered, locked: c.locked });
      }
      cells = next;
      list = [...next.values()];
    },
    cells(now) {
      if (list.some((c) => c.t_end <= now)) {
        list = list.filter((c) => c.t_end > now);
        cells = new Map(list.map((c) => [c.key, c]));
      }
      return list;
    },
    cell: (key) => cells.get(key),
    latest: () => latest,
    spec: () => spec,
  };
}
