import type { Grid } from "../../common/contracts/grid.ts";
import { fromCents } from "../../common/money.ts";
import type { Market } from "../market/market.ts";
import { buildGrid, type GridSettings, type PricedCell, priceCell, quotedMultiplier } from "./build-grid.ts";

/**
 * How long a grid's quote stands, ms: its `expires_at` is this after its `ts`.
 *
 * ```ts
 * grid.expires_at - grid.ts === QUOTE_TTL_MS; // true
 * ```
 */
export const QUOTE_TTL_MS = 1000;

/** How long a built grid is served again for the same tick, ms, unless the caller sets `cacheMs`. */
const DEFAULT_CACHE_MS = 200;

/**
 * A requested cell's multiplier as of now, or why it cannot be bet on.
 *
 * ```ts
 * const verdict: CellVerdict = grid.judge(cell, Date.now());
 * if (!verdict.ok) throw new HttpError(409, verdict.reason, "…"); // not_offered carries the cell's rtp
 * ```
 */
export type CellVerdict =
  /** `multiplier`: what the cell pays now; `quoted`: what a quote would name now (`quotedMultiplier`), at most that. */
  | { ok: true; multiplier: number; quoted: number }
  | { ok: false; reason: "off_grid" | "cell_locked" | "no_price" }
  | { ok: false; reason: "not_offered"; rtp: number };

/**
 * The live grid: built from the market on demand (the same tick's grid is
 * served again for `cacheMs`), and the judge of whether a requested cell is on
 * it, priced as of now and offered (its expected return at least `minRtp`).
 *
 * ```ts
 * const grid = createGridService({ market, settings: defaultGridSettings });
 * grid.current(Date.now()); // the priced grid, or undefined without a fresh price
 * grid.judge({ t_start, t_end, lowCents, highCents }, Date.now()); // { ok: true, multiplier: 2.35 }
 * ```
 */
export function createGridService({ market, settings, cacheMs = DEFAULT_CACHE_MS }: { market: Market; settings: GridSettings; cacheMs?: number }) {
  let cached: { at: number; tickTs: number; grid: Grid } | undefined;
  let quoteSeq = 0;

  const current = (now: number): Grid | undefined => {
    const tick = market.fresh(now);
    if (!tick) return undefined;
    if (cached && cached.tickTs === tick.ts && now - cached.at < cacheMs) return cached.grid;
    const priceCents = Math.round(tick.price * 100);
    const sigma = market.sigma();
    const cells = buildGrid(now, priceCents, sigma, settings).map((cell: PricedCell) => ({
      t_start: cell.t_start,
      t_end: cell.t_end,
      price_low: fromCents(cell.lowCents),
      price_high: fromCents(cell.highCents),
      multiplier: cell.multiplier,
      rtp: cell.rtp,
      offered: cell.offered,
      locked: cell.locked,
    }));
    const grid: Grid = {
      ts: now,
      price: tick.price,
      price_ts: tick.ts,
      sigma,
      quote_id: `${now.toString(36)}-${(++quoteSeq).toString(36)}`,
      expires_at: now + QUOTE_TTL_MS,
      column_ms: settings.columnMs,
      band: fromCents(settings.bandCents),
      lock_ms: settings.lockMs,
      house_edge: settings.houseEdge,
      min_rtp: settings.minRtp,
      cells,
    };
    cached = { at: now, tickTs: tick.ts, grid };
    return grid;
  };

  /**
   * Judges a cell given in cents: aligned to the grid, not locked, within the
   * grid's reach, and offered at a multiplier priced now.
   */
  const judge = (cell: { t_start: number; t_end: number; lowCents: number; highCents: number }, now: number): CellVerdict => {
    const { columnMs, bandCents, columns, rowsEachSide, lockMs } = settings;
    const aligned =
      cell.t_start % columnMs === 0 &&
      cell.t_end - cell.t_start === columnMs &&
      cell.lowCents % bandCents === 0 &&
      cell.highCents - cell.lowCents === bandCents;
    if (!aligned) return { ok: false, reason: "off_grid" };
    if (cell.t_start - now < lockMs) return { ok: false, reason: "cell_locked" };
    const firstStart = Math.floor(now / columnMs) * columnMs + columnMs;
    if (cell.t_start >= firstStart + columns * columnMs) return { ok: false, reason: "off_grid" };
    const tick = market.fresh(now);
    if (!tick) return { ok: false, reason: "no_price" };
    const priceCents = Math.round(tick.price * 100);
    const centreLow = Math.floor(priceCents / bandCents) * bandCents;
    if (Math.abs(cell.lowCents - centreLow) > rowsEachSide * bandCents) return { ok: false, reason: "off_grid" };
    const quote = priceCell(cell, now, priceCents, market.sigma(), settings);
    if (quote === undefined) return { ok: false, reason: "off_grid" };
    if (!quote.offered) return { ok: false, reason: "not_offered", rtp: quote.rtp };
    return { ok: true, multiplier: quote.multiplier, quoted: quotedMultiplier(cell, now, priceCents, market.sigma(), settings, quote.multiplier) };
  };

  return {
    /** The priced grid as of `now`; undefined while there is no fresh price. */
    current,
    judge,
    /** The highest multiplier any cell is offered at. */
    maxMultiplier: settings.maxMultiplier,
    /** The least expected return of an offered cell. */
    minRtp: settings.minRtp,
  };
}

/**
 * What `createGridService` returns: `current`, `judge` and `maxMultiplier`.
 *
 * ```ts
 * function gridRoutes({ grid }: { grid: GridService }) { … }
 * ```
 */
export type GridService = ReturnType<typeof createGridService>;
