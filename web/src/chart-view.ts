import type { Tick } from "../../common/contracts/price.ts";
import type { PlacedBet } from "./bet-book.ts";
import { formatBand, formatClock, formatPrice, formatStake } from "./format.ts";
import type { GridSpec } from "./grid-model.ts";
import type { BoardLayout, Scales } from "./scales.ts";
import { theme } from "./theme.ts";

/** Every this many bands, a band line is drawn stronger. */
const STRONG_LINE_EVERY_BANDS = 5;
/** A past bet's box sits this far inside its cell (px). */
const BET_BOX_INSET_PX = 2;
/** The dot at the head of the price line (px). */
const HEAD_DOT_RADIUS_PX = 4;
/** The ring around the head breathes once this often (ms), growing this much (px): the feed is alive. */
const PULSE_PERIOD_MS = 1000;
const PULSE_GROWTH_PX = 10;
/** Rows at least this tall (px) get a price label on every band edge; shorter ones on every other. */
const LABEL_EVERY_BAND_FROM_ROW_PX = 26;
/** No price label closer than this (px) to the plot's top or bottom, where it would be cut off. */
const PRICE_LABEL_EDGE_PX = 8;
/** Half the current price tag's height (px). */
const PRICE_TAG_HALF_HEIGHT_PX = 10;
/** Columns at least this wide (px) get a time label each; narrower ones every other. */
const LABEL_EVERY_COLUMN_FROM_PX = 70;
/** No time label closer than this (px) to the plot's left or right edge. */
const TIME_LABEL_EDGE_PX = 24;

/**
 * What one frame of the chart shows.
 *
 * ```ts
 * const frame: ChartFrame = { layout, scales, spec: DEFAULT_GRID, ticks: series.between(scales.timeAt(0), now), price: 42_012.3, stale: false, pastBets: [] };
 * ```
 */
export interface ChartFrame {
  layout: BoardLayout;
  scales: Scales;
  spec: GridSpec;
  /** Ticks from the left edge of the plot to now, oldest first. */
  ticks: readonly Tick[];
  /** The price shown as current. */
  price: number | undefined;
  /** True when the price may not be trusted as live: drawn grey, without the pulse. */
  stale: boolean;
  /** Accepted bets whose window has closed: drawn as boxes that scroll into the past. */
  pastBets: readonly PlacedBet[];
}

/**
 * The chart's canvas, drawn once a frame.
 *
 * ```ts
 * const chart: ChartView = createChartView(document.querySelector("canvas.chart")!);
 * ```
 */
export interface ChartView {
  /** Matches the canvas to the board's size and the screen's pixel ratio. */
  resize(layout: BoardLayout, pixelRatio: number): void;
  /** Draws the whole chart for one frame. */
  draw(frame: ChartFrame): void;
}

/**
 * The price chart on a canvas: band and window lines, the price line and its
 * area up to the now line, the current price across the board and on the axis,
 * and the time axis. The grid's cells are DOM buttons laid over it (`grid-view`).
 *
 * ```ts
 * const chart = createChartView(document.querySelector("canvas.chart")!);
 * chart.resize(layout, window.devicePixelRatio);
 * chart.draw({ layout, scales, spec, ticks, price, stale: false, pastBets: [] });
 * ```
 */
export function createChartView(canvas: HTMLCanvasElement): ChartView {
  const context = canvas.getContext("2d", { alpha: false });
  if (!context) throw new Error("no 2D canvas context");
  const ctx = context;
  let ratio = 1;

  return {
    resize(layout, pixelRatio) {
      ratio = pixelRatio;
      canvas.width = Math.round(layout.width * ratio);
      canvas.height = Math.round(layout.height * ratio);
      canvas.style.width = `${layout.width}px`;
      canvas.style.height = `${layout.height}px`;
    },
    draw(frame) {
      const { layout, scales, spec } = frame;
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.fillStyle = theme.background;
      ctx.fillRect(0, 0, layout.width, layout.height);
      ctx.fillStyle = theme.future;
      const nowX = clampX(scales.x(scales.now), layout);
      ctx.fillRect(nowX, 0, layout.plotWidth - nowX, layout.plotHeight);

      ctx.save();
      ctx.beginPath();
      ctx.rect(0, 0, layout.plotWidth, layout.plotHeight);
      ctx.clip();
      drawBandLines(ctx, frame);
      drawWindowLines(ctx, frame);
      drawPastBets(ctx, frame);
      drawPriceLine(ctx, frame);
      ctx.restore();

      drawNowLine(ctx, layout, scales.x(scales.now));
      drawPriceAxis(ctx, frame);
      drawTimeAxis(ctx, frame, spec);
    },
  };
}

function drawBandLines(ctx: CanvasRenderingContext2D, { layout, scales, spec }: ChartFrame) {
  const top = scales.priceAt(0);
  const bottom = scales.priceAt(layout.plotHeight);
  ctx.lineWidth = 1;
  for (let p = Math.floor(bottom / spec.bandSize) * spec.bandSize; p <= top; p += spec.bandSize) {
    const y = Math.round(scales.y(p)) + 0.5;
    ctx.strokeStyle = Math.round(p) % (spec.bandSize * STRONG_LINE_EVERY_BANDS) === 0 ? theme.gridLineStrong : theme.gridLine;
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(layout.plotWidth, y);
    ctx.stroke();
  }
}

function drawWindowLines(ctx: CanvasRenderingContext2D, { layout, scales, spec }: ChartFrame) {
  const first = Math.floor(scales.timeAt(0) / spec.columnMs) * spec.columnMs;
  ctx.strokeStyle = theme.gridLine;
  ctx.lineWidth = 1;
  for (let t = first; scales.x(t) <= layout.plotWidth; t += spec.columnMs) {
    const x = Math.round(scales.x(t)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(x, 0);
    ctx.lineTo(x, layout.plotHeight);
    ctx.stroke();
  }
}

function drawPastBets(ctx: CanvasRenderingContext2D, { scales, pastBets }: ChartFrame) {
  ctx.font = theme.font;
  ctx.textBaseline = "middle";
  ctx.textAlign = "center";
  for (const { cell, amount, payout, result } of pastBets) {
    const x = scales.x(cell.t_start);
    const w = scales.x(cell.t_end) - x;
    const y = scales.y(cell.price_high);
    const h = scales.y(cell.price_low) - y;
    if (x + w < 0) continue;
    // Open and won bets in green (a win brighter), lost ones muted, void ones as a dashed outline.
    ctx.fillStyle = result === "won" ? theme.wonFill : result === "lost" || result === "void" ? theme.settledFill : theme.betFill;
    ctx.fillRect(x + BET_BOX_INSET_PX, y + BET_BOX_INSET_PX, w - 2 * BET_BOX_INSET_PX, h - 2 * BET_BOX_INSET_PX);
    ctx.strokeStyle = result === "won" ? theme.won : result === "lost" || result === "void" ? theme.settled : theme.bet;
    ctx.lineWidth = 1;
    ctx.setLineDash(result === "void" ? [4, 3] : []);
    // Half a pixel further in, so the 1 px outline falls on whole pixels.
    const outline = BET_BOX_INSET_PX + 0.5;
    ctx.strokeRect(x + outline, y + outline, w - 2 * outline, h - 2 * outline);
    ctx.setLineDash([]);
    ctx.fillStyle = result === "lost" || result === "void" ? theme.axisText : theme.text;
    ctx.fillText(result === "won" ? `+${formatStake(payout)}` : result === "void" ? `↩ ${formatStake(amount)}` : formatStake(amount), x + w / 2, y + h / 2);
  }
}

/** An x (px) held inside the plot. */
const clampX = (x: number, layout: BoardLayout) => Math.min(layout.plotWidth, Math.max(0, x));

/** The price line, its area and its head, at the now line wherever a pan has put it: drawn inside the plot's clip. */
function drawPriceLine(ctx: CanvasRenderingContext2D, { layout, scales, ticks, price, stale }: ChartFrame) {
  if (ticks.length === 0 || price === undefined) return;
  const color = stale ? theme.stale : theme.line;
  const nowX = scales.x(scales.now);
  const headX = Math.min(nowX, scales.x(ticks.at(-1)!.ts));
  const path = new Path2D();
  ticks.forEach((tick, i) => {
    const x = scales.x(tick.ts);
    const y = scales.y(tick.price);
    if (i === 0) path.moveTo(x, y);
    else path.lineTo(x, y);
  });
  // The last price holds until now: the line always reaches the now line.
  const headY = scales.y(price);
  path.lineTo(nowX, headY);

  const area = new Path2D(path);
  area.lineTo(nowX, layout.plotHeight);
  area.lineTo(scales.x(ticks[0]!.ts), layout.plotHeight);
  area.closePath();
  const gradient = ctx.createLinearGradient(0, 0, 0, layout.plotHeight);
  gradient.addColorStop(0, stale ? theme.staleAreaTop : theme.areaTop);
  gradient.addColorStop(1, theme.areaBottom);
  ctx.fillStyle = gradient;
  ctx.fill(area);

  ctx.lineJoin = "round";
  ctx.lineCap = "round";
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  if (!stale) {
    ctx.shadowColor = theme.lineGlow;
    ctx.shadowBlur = 8;
  }
  ctx.stroke(path);
  ctx.shadowBlur = 0;

  // The current price across the whole board, so a player sees which row it is in.
  ctx.setLineDash([4, 4]);
  ctx.strokeStyle = stale ? theme.stale : theme.priceAcross;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(Math.max(0, headX), Math.round(headY) + 0.5);
  ctx.lineTo(layout.plotWidth, Math.round(headY) + 0.5);
  ctx.stroke();
  ctx.setLineDash([]);

  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.arc(nowX, headY, HEAD_DOT_RADIUS_PX, 0, Math.PI * 2);
  ctx.fill();
  if (!stale) {
    // A ring that breathes once a second: the feed is alive.
    const phase = (performance.now() % PULSE_PERIOD_MS) / PULSE_PERIOD_MS;
    ctx.strokeStyle = `rgba(247, 162, 27, ${0.6 * (1 - phase)})`;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(nowX, headY, HEAD_DOT_RADIUS_PX + phase * PULSE_GROWTH_PX, 0, Math.PI * 2);
    ctx.stroke();
  }
}

function drawNowLine(ctx: CanvasRenderingContext2D, layout: BoardLayout, nowX: number) {
  // Panned far enough into the future, the now line has left the plot.
  if (nowX < 0 || nowX > layout.plotWidth) return;
  const x = Math.round(nowX) + 0.5;
  ctx.strokeStyle = theme.nowLine;
  ctx.lineWidth = 1;
  ctx.setLineDash([2, 3]);
  ctx.beginPath();
  ctx.moveTo(x, 0);
  ctx.lineTo(x, layout.plotHeight);
  ctx.stroke();
  ctx.setLineDash([]);
}

function drawPriceAxis(ctx: CanvasRenderingContext2D, { layout, scales, spec, price, stale }: ChartFrame) {
  const left = layout.plotWidth;
  ctx.fillStyle = theme.background;
  ctx.fillRect(left, 0, layout.width - left, layout.height);
  ctx.strokeStyle = theme.gridLineStrong;
  ctx.beginPath();
  ctx.moveTo(left + 0.5, 0);
  ctx.lineTo(left + 0.5, layout.plotHeight);
  ctx.stroke();

  ctx.font = theme.font;
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  ctx.fillStyle = theme.axisText;
  const top = scales.priceAt(0);
  const bottom = scales.priceAt(layout.plotHeight);
  // A label on every band edge when rows are tall, every other one when they are not.
  const step = layout.rowHeight >= LABEL_EVERY_BAND_FROM_ROW_PX ? spec.bandSize : spec.bandSize * 2;
  for (let p = Math.ceil(bottom / step) * step; p <= top; p += step) {
    const y = scales.y(p);
    if (y < PRICE_LABEL_EDGE_PX || y > layout.plotHeight - PRICE_LABEL_EDGE_PX) continue;
    ctx.fillText(formatBand(p), left + 6, y);
  }

  if (price === undefined) return;
  // The current price tag, pinned to the axis.
  const half = PRICE_TAG_HALF_HEIGHT_PX;
  const y = Math.min(layout.plotHeight - half, Math.max(half, scales.y(price)));
  ctx.fillStyle = stale ? theme.stale : theme.line;
  ctx.beginPath();
  ctx.moveTo(left, y);
  ctx.lineTo(left + 6, y - half);
  ctx.lineTo(layout.width, y - half);
  ctx.lineTo(layout.width, y + half);
  ctx.lineTo(left + 6, y + half);
  ctx.closePath();
  ctx.fill();
  ctx.fillStyle = theme.priceTagText;
  ctx.font = theme.fontStrong;
  const label = formatPrice(price);
  // On a narrow axis the thousands separator goes before the digits do.
  ctx.fillText(ctx.measureText(label).width > layout.width - left - 9 ? label.replace(/,/g, "") : label, left + 7, y + 0.5);
}

function drawTimeAxis(ctx: CanvasRenderingContext2D, { layout, scales }: ChartFrame, spec: GridSpec) {
  const top = layout.plotHeight;
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, top, layout.width, layout.height - top);
  ctx.strokeStyle = theme.gridLineStrong;
  ctx.beginPath();
  ctx.moveTo(0, top + 0.5);
  ctx.lineTo(layout.plotWidth, top + 0.5);
  ctx.stroke();

  ctx.font = theme.font;
  ctx.textBaseline = "middle";
  ctx.textAlign = "center";
  ctx.fillStyle = theme.axisText;
  const every = layout.columnWidth >= LABEL_EVERY_COLUMN_FROM_PX ? spec.columnMs : spec.columnMs * 2;
  const first = Math.ceil(scales.timeAt(0) / every) * every;
  for (let t = first; scales.x(t) < layout.plotWidth - TIME_LABEL_EDGE_PX; t += every) {
    const x = scales.x(t);
    if (x < TIME_LABEL_EDGE_PX) continue;
    ctx.fillText(formatClock(t), x, top + (layout.height - top) / 2);
  }
}
