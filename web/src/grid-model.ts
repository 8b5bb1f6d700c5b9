import type { Cell } from "../../common/contracts/bet.ts";

/**
 * The grid's geometry, kept apart from any drawing: columns are time windows
 * aligned to the clock, rows are price bands aligned to multiples of the band
 * size. A later priced grid (multipliers) extends this module, not the view.
 */
export interface GridSpec {
  /** Length of one column's time window, ms. */
  columnMs: number;
  /** Height of one row's price band, in price units. */
  bandSize: number;
  /** A cell whose window starts sooner than this (ms) cannot be bet on. */
  lockMs: number;
}

export const DEFAULT_GRID: GridSpec = { columnMs: 5000, bandSize: 10, lockMs: 2000 };

/** A cell plus the key that names it in maps and the DOM. */
export interface GridCell extends Cell {
  key: string;
}

/** The start of the column holding time `t`. */
export function columnStart(t: number, spec: GridSpec): number {
  return Math.floor(t / spec.columnMs) * spec.columnMs;
}

/** The low edge of the band holding `price`, in whole cents so bands never drift by float noise. */
export function bandLow(price: number, spec: GridSpec): number {
  const cents = Math.round(spec.bandSize * 100);
  return (Math.floor(Math.round(price * 100) / cents) * cents) / 100;
}

/** The cell for the column starting at `tStart` and the band starting at `low`. */
export function gridCell(tStart: number, low: number, spec: GridSpec): GridCell {
  const lowCents = Math.round(low * 100);
  const highCents = lowCents + Math.round(spec.bandSize * 100);
  return { key: `${tStart}:${lowCents}`, t_start: tStart, t_end: tStart + spec.columnMs, price_low: lowCents / 100, price_high: highCents / 100 };
}

/**
 * Column starts from the column still open at `now` up to the last one that
 * begins before `until`.
 *
 * ```ts
 * visibleColumns(12_500, 21_000, DEFAULT_GRID) // [10_000, 15_000, 20_000]
 * ```
 */
export function visibleColumns(now: number, until: number, spec: GridSpec): number[] {
  const starts: number[] = [];
  for (let t = columnStart(now, spec); t < until; t += spec.columnMs) starts.push(t);
  return starts;
}

/** Band lows covering `[low, high]`, lowest first. */
export function visibleBands(low: number, high: number, spec: GridSpec): number[] {
  const step = Math.round(spec.bandSize * 100);
  const first = Math.round(bandLow(low, spec) * 100);
  const bands: number[] = [];
  for (let cents = first; cents < high * 100; cents += step) bands.push(cents / 100);
  return bands;
}

/** True once the cell's window starts within `lockMs` of `now` (or has started): too late to bet. */
export function isLocked(cell: Cell, now: number, spec: GridSpec): boolean {
  return cell.t_start - now < spec.lockMs;
}
