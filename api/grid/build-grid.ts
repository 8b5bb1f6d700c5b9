import { touchProbability } from "../pricing/touch-probability.ts";

/**
 * The shape and pricing of the grid (read from the API's config).
 *
 * ```ts
 * const settings: GridSettings = { ...defaultGridSettings, houseEdge: 0.03 };
 * ```
 */
export interface GridSettings {
  /** Width of a column (a time window), ms; columns are aligned to multiples of it. */
  columnMs: number;
  /** Height of a row (a price band), in cents; rows are aligned to multiples of it. */
  bandCents: number;
  /** How many future columns the grid shows. */
  columns: number;
  /** Rows above and below the band holding the current price. */
  rowsEachSide: number;
  /** Cells whose window starts within this many ms are locked. */
  lockMs: number;
  /** The house's share of every stake in expectation, e.g. 0.05. */
  houseEdge: number;
  /**
   * The highest multiplier paid, a risk limit on what one bet can win: a cell whose fair multiplier is above it is
   * not offered (it is never priced at the cap).
   */
  maxMultiplier: number;
  /** Cells that would pay less than this are not offered. */
  minMultiplier: number;
  /** The least expected return (multiplier × P(touch)) of an offered cell, e.g. 0.9. */
  minRtp: number;
  /**
   * How far ahead a quote is good for, ms: a shown multiplier is the lower of the cell's price now and this much
   * later at the same price, so a tap that lands within it holds unless the price moves (docs/rules.md).
   */
  quoteHorizonMs: number;
}

/**
 * The lowest multiplier a cell may pay: multipliers go in steps of 0.01, and
 * 1.00 would only hand the stake back, so a win must pay at least one step more.
 *
 * ```ts
 * multiplierFor(0.95, defaultGridSettings); // undefined: (1 − 0.05) / 0.95 = 1.00 is below MIN_MULTIPLIER
 * ```
 */
export const MIN_MULTIPLIER = 1.01;

/**
 * The settings the API runs with unless configured otherwise: 5 s columns,
 * $10 bands, 12 columns, 10 rows each side, a 2 s lock, a 5% edge, and every
 * offered cell returning at least 90% on average.
 *
 * ```ts
 * buildGrid(Date.now(), 4_200_037, 0.0004, defaultGridSettings);
 * ```
 */
export const defaultGridSettings: GridSettings = {
  columnMs: 5000,
  bandCents: 1000,
  columns: 12,
  rowsEachSide: 10,
  lockMs: 2000,
  houseEdge: 0.05,
  maxMultiplier: 100,
  minMultiplier: MIN_MULTIPLIER,
  minRtp: 0.9,
  quoteHorizonMs: 1000,
};

/**
 * One offered cell, priced, its band in cents (the contract's `GridCell` has dollars).
 *
 * ```ts
 * const cell: PricedCell = { t_start: 1_700_000_005_000, t_end: 1_700_000_010_000, lowCents: 4_201_000, highCents: 4_202_000, multiplier: 2.35, rtp: 0.9466, offered: true, locked: false };
 * ```
 */
export interface PricedCell {
  t_start: number;
  t_end: number;
  /** Band edges in cents. */
  lowCents: number;
  highCents: number;
  multiplier: number;
  /** Expected return per unit staked, multiplier × P(touch), rounded down to 4 decimals. */
  rtp: number;
  /** False when `rtp` is below `minRtp` or the fair multiplier is above the cap: shown on the grid, but not taken. */
  offered: boolean;
  locked: boolean;
}

/**
 * Multiplier for a touch probability: (1 − edge) / P rounded DOWN to cents and
 * capped, so the expected payout P × multiplier never exceeds 1 − edge.
 * Undefined when below the minimum (the cell is not shown); a capped cell is
 * shown but not offered (`quoteFor`).
 *
 * ```ts
 * multiplierFor(0.5, defaultGridSettings); // 1.9
 * multiplierFor(0.95, defaultGridSettings); // undefined
 * ```
 */
export function multiplierFor(probability: number, settings: Pick<GridSettings, "houseEdge" | "maxMultiplier" | "minMultiplier">): number | undefined {
  const multiplier = Math.min(settings.maxMultiplier, fairMultiplier(probability, settings));
  return multiplier >= settings.minMultiplier ? multiplier : undefined;
}

/** (1 − edge) / P rounded down to cents, before the cap; infinite when P is 0. */
function fairMultiplier(probability: number, settings: Pick<GridSettings, "houseEdge">): number {
  if (!(probability > 0)) return Number.POSITIVE_INFINITY;
  // The epsilon keeps an exact product such as 1.9 × 100 from flooring to 189.
  return Math.floor(((1 - settings.houseEdge) / probability) * 100 + 1e-9) / 100;
}

/**
 * A cell's price: the multiplier it pays, its expected return under the pricing model (multiplier × P(touch), at
 * most 1 − edge by construction), and whether it is offered (that return at least `minRtp`, and the multiplier
 * its fair one, not the cap).
 *
 * ```ts
 * const quote: CellQuote = { multiplier: 100, rtp: 0.227, offered: false }; // its fair 418× is above the cap
 * ```
 */
export interface CellQuote {
  multiplier: number;
  /** Rounded down to 4 decimals. */
  rtp: number;
  offered: boolean;
}

/**
 * The quote for a touch probability: `multiplierFor` and the expected return it gives; undefined when the cell
 * is not shown at all (it would pay less than the minimum multiplier). A cell whose fair multiplier is above
 * `maxMultiplier` is shown at the cap but not offered, whatever it would return there: the cap is a risk limit,
 * never a price (docs/rules.md).
 *
 * ```ts
 * quoteFor(0.5, defaultGridSettings); // { multiplier: 1.9, rtp: 0.95, offered: true }
 * quoteFor(0.0095, defaultGridSettings); // { multiplier: 100, rtp: 0.95, offered: true }: fair 100×, not capped
 * quoteFor(0.0094, defaultGridSettings); // { multiplier: 100, rtp: 0.94, offered: false }: fair 101.06×, capped
 * quoteFor(0.001, defaultGridSettings); // { multiplier: 100, rtp: 0.1, offered: false }
 * ```
 */
export function quoteFor(probability: number, settings: Pick<GridSettings, "houseEdge" | "maxMultiplier" | "minMultiplier" | "minRtp">): CellQuote | undefined {
  const multiplier = multiplierFor(probability, settings);
  if (multiplier === undefined) return undefined;
  const expected = multiplier * Math.max(0, probability);
  const capped = fairMultiplier(probability, settings) > settings.maxMultiplier;
  // Offered on the exact product; the wire's figure is rounded down, so it never shows more than the cell returns.
  // (The 1e-9 forgives float noise: 100 × 0.009 is 0.8999999999999999.)
  return { multiplier, rtp: Math.floor(expected * 10_000 + 1e-9) / 10_000, offered: !capped && expected >= settings.minRtp - 1e-9 };
}

/**
 * Prices one cell as of `now`, at spot `priceCents` and volatility `sigma`
 * (per √second): its quote, or undefined when it is not shown.
 *
 * ```ts
 * const cell = { t_start: 1_700_000_010_000, t_end: 1_700_000_015_000, lowCents: 4_203_000, highCents: 4_204_000 };
 * priceCell(cell, 1_700_000_001_234, 4_200_037, 0.0004, defaultGridSettings); // e.g. { multiplier: 2.35, rtp: 0.9491, offered: true }
 * ```
 */
export function priceCell(
  cell: { t_start: number; t_end: number; lowCents: number; highCents: number },
  now: number,
  priceCents: number,
  sigma: number,
  settings: GridSettings,
): CellQuote | undefined {
  const probability = touchProbability({
    spot: priceCents,
    low: cell.lowCents,
    high: cell.highCents,
    startsIn: (cell.t_start - now) / 1000,
    endsIn: (cell.t_end - now) / 1000,
    sigma,
  });
  return quoteFor(probability, settings);
}

/**
 * The multiplier to quote for `cell`, given its price `now` (`current`): the lower of that and the cell's price
 * `quoteHorizonMs` later at the same spot, while the cell is still open then. A cell holding the price pays less
 * every moment its window nears; quoting the later figure lets a tap made within the horizon hold, and the bet is
 * still accepted at its price on arrival, never lower than quoted.
 *
 * ```ts
 * quotedMultiplier(cell, 1_700_000_001_234, 4_200_037, 0.0004, defaultGridSettings, 2.35); // e.g. 2.24
 * ```
 */
export function quotedMultiplier(
  cell: { t_start: number; t_end: number; lowCents: number; highCents: number },
  now: number,
  priceCents: number,
  sigma: number,
  settings: GridSettings,
  current: number,
): number {
  const later = now + settings.quoteHorizonMs;
  if (cell.t_start - later < settings.lockMs) return current;
  const then = priceCell(cell, later, priceCents, sigma, settings);
  return then === undefined ? current : Math.min(current, then.multiplier);
}

/**
 * The grid as of `now`: the next `columns` windows, and the bands around the
 * one holding the price, each shown cell with its quoted multiplier
 * (`quotedMultiplier`), its expected return and whether it is offered (both
 * as priced now).
 *
 * ```ts
 * const cells = buildGrid(Date.now(), 4_200_037, 0.0004, defaultGridSettings);
 * cells.filter((cell) => cell.offered && !cell.locked); // what a player can tap
 * ```
 */
export function buildGrid(now: number, priceCents: number, sigma: number, settings: GridSettings): PricedCell[] {
  const { columnMs, bandCents, columns, rowsEachSide, lockMs } = settings;
  const firstStart = Math.floor(now / columnMs) * columnMs + columnMs;
  const centreLow = Math.floor(priceCents / bandCents) * bandCents;
  const cells: PricedCell[] = [];
  for (let c = 0; c < columns; c++) {
    const t_start = firstStart + c * columnMs;
    const t_end = t_start + columnMs;
    const locked = t_start - now < lockMs;
    for (let r = -rowsEachSide; r <= rowsEachSide; r++) {
      const lowCents = centreLow + r * bandCents;
      if (lowCents <= 0) continue;
      const cell = { t_start, t_end, lowCents, highCents: lowCents + bandCents };
      const quote = priceCell(cell, now, priceCents, sigma, settings);
      if (quote !== undefined) cells.push({ ...cell, ...quote, multiplier: quotedMultiplier(cell, now, priceCents, sigma, settings, quote.multiplier), locked });
    }
  }
  return cells;
}
