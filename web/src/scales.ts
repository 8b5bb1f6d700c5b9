import type { GridSpec } from "./grid-model.ts";
import type { Pan } from "./pan.ts";

/**
 * Where things sit on the board, in CSS pixels; worked out again only when the board is resized.
 *
 * ```ts
 * const layout: BoardLayout = { width: 1280, height: 640, plotWidth: 1210, plotHeight: 618, nowX: 436, columnWidth: 91, rowHeight: 41 };
 * ```
 */
export interface BoardLayout {
  width: number;
  height: number;
  /** The board less the price axis on the right. */
  plotWidth: number;
  /** The board less the time axis at the bottom. */
  plotHeight: number;
  /** The "now" line: the past is drawn left of it, the grid of future windows right of it. */
  nowX: number;
  /** One column (one time window) wide. */
  columnWidth: number;
  /** One row (one price band) high. */
  rowHeight: number;
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/** A board narrower than this (px) is laid out for a phone. */
const NARROW_BELOW_PX = 640;
/** The price axis's width (px), on a phone and wider. */
const PRICE_AXIS_PX = { narrow: 60, wide: 70 };
/** The time axis's height (px). */
const TIME_AXIS_PX = 22;
/** Where the now line sits, as a share of the plot's width: more future on a phone. */
const NOW_LINE_AT = { narrow: 0.26, wide: 0.36 };
/** Columns right of the now line: eight, and half of one more peeking in at the edge. */
const FUTURE_COLUMNS = 8.5;
/** A column's width (px): at least thumb-sized on a phone, and never wider than `max`. */
const COLUMN_PX = { narrowMin: 50, wideMin: 64, max: 104 };
/** Rows over the plot's height, before the limits on a row's height. */
const ROWS = 15;
/** A row's height (px): tall enough to tap, and never taller than `max`. */
const ROW_PX = { narrowMin: 32, wideMin: 30, max: 44 };

/**
 * Sizes the board for a screen: about eight future columns on a desktop, fewer
 * but still thumb-sized ones on a phone, and rows tall enough to tap.
 *
 * ```ts
 * boardLayout(1280, 640) // { plotWidth: 1210, plotHeight: 618, nowX: 436, columnWidth: 91, rowHeight: 41, ... }
 * ```
 */
export function boardLayout(width: number, height: number): BoardLayout {
  const narrow = width < NARROW_BELOW_PX;
  const plotWidth = Math.max(1, width - (narrow ? PRICE_AXIS_PX.narrow : PRICE_AXIS_PX.wide));
  const plotHeight = Math.max(1, height - TIME_AXIS_PX);
  const nowX = Math.round(plotWidth * (narrow ? NOW_LINE_AT.narrow : NOW_LINE_AT.wide));
  const columnWidth = Math.round(clamp((plotWidth - nowX) / FUTURE_COLUMNS, narrow ? COLUMN_PX.narrowMin : COLUMN_PX.wideMin, COLUMN_PX.max));
  const rowHeight = Math.round(clamp(plotHeight / ROWS, narrow ? ROW_PX.narrowMin : ROW_PX.wideMin, ROW_PX.max));
  return { width, height, plotWidth, plotHeight, nowX, columnWidth, rowHeight };
}

/**
 * Maps time and price to board pixels for one frame.
 *
 * ```ts
 * const scales: Scales = scalesFor(layout, DEFAULT_GRID, Date.now(), 42_000);
 * ```
 */
export interface Scales {
  now: number;
  centerPrice: number;
  pxPerMs: number;
  pxPerPrice: number;
  x(t: number): number;
  y(price: number): number;
  timeAt(x: number): number;
  priceAt(y: number): number;
}

/**
 * The scales for one frame: `now` at the now line, `centerPrice` in the middle
 * of the plot, one column per `spec.columnMs` and one row per `spec.bandSize`;
 * then moved by the player's `pan` (px, see `pan.ts`): `x` > 0 looks later, `y` > 0 higher.
 *
 * ```ts
 * const scales = scalesFor(boardLayout(1280, 640), DEFAULT_GRID, Date.now(), 42_000);
 * scales.y(42_000); // 309: the middle of the plot
 * ```
 */
export function scalesFor(layout: BoardLayout, spec: GridSpec, now: number, centerPrice: number, pan: Pan = { x: 0, y: 0 }): Scales {
  const pxPerMs = layout.columnWidth / spec.columnMs;
  const pxPerPrice = layout.rowHeight / spec.bandSize;
  const midY = layout.plotHeight / 2 + pan.y;
  const nowX = layout.nowX - pan.x;
  return {
    now,
    centerPrice,
    pxPerMs,
    pxPerPrice,
    x: (t) => nowX + (t - now) * pxPerMs,
    y: (price) => midY - (price - centerPrice) * pxPerPrice,
    timeAt: (x) => now + (x - nowX) / pxPerMs,
    priceAt: (y) => centerPrice + (midY - y) / pxPerPrice,
  };
}

/** A price further than this many half-ranges from the centre (a long outage) is jumped to, not panned to. */
const JUMP_HALF_RANGES = 4;
/** Panning starts once the price is this share of the half-range from the centre; further while the player points at the grid. */
const PAN_FROM = { free: 0.5, holding: 0.8 };
/** Panning stops once the price is within this share of the half-range of the centre. */
const PAN_UNTIL = 0.05;

/**
 * Where the view centres, frame by frame. It holds still while the price stays in
 * the middle of the plot, so the cells under a finger do not slide; once the price
 * nears an edge it pans smoothly until the price is back in the middle. While the
 * player is pointing at the grid (`hold`) it waits until the price is close to
 * leaving the view altogether.
 *
 * ```ts
 * const follower = createPriceFollower();
 * const center = follower.follow({ price: 42_012, halfRange: 80, dtMs: 16, hold: false });
 * ```
 */
export function createPriceFollower({ tauMs = 250 }: { tauMs?: number } = {}) {
  let center = Number.NaN;
  let panning = false;
  return {
    follow({ price, halfRange, dtMs, hold }: { price: number; halfRange: number; dtMs: number; hold: boolean }): number {
      const offset = Math.abs(price - center);
      // The first price, or a jump (a long outage): no slow pan across it.
      if (!Number.isFinite(center) || offset > halfRange * JUMP_HALF_RANGES) {
        center = price;
        panning = false;
        return center;
      }
      if (!panning && offset > halfRange * (hold ? PAN_FROM.holding : PAN_FROM.free)) panning = true;
      if (panning) {
        center += (price - center) * (1 - Math.exp(-dtMs / tauMs));
        if (Math.abs(price - center) < halfRange * PAN_UNTIL) panning = false;
      }
      return center;
    },
  };
}
