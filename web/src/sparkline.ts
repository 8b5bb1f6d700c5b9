import type { Tick } from "../../common/contracts/price.ts";
import { theme } from "./theme.ts";

/** Room left (px) at the sparkline's left and right, so the line's ends are not cut off. */
const PAD_X_PX = 2;
/** Room left (px) at its top and bottom, so the line's width is not cut off at the high and the low. */
const PAD_Y_PX = 3;
/** The price range never counts as less than this, so a flat line does not divide by zero. */
const MIN_SPAN = 1e-9;

/**
 * A small line of the last minutes for the header, redrawn a few times a second; returns the range it drew.
 *
 * ```ts
 * drawSparkline(canvas, series.between(Date.now() - 300_000, Date.now()), { stale: false, pixelRatio: window.devicePixelRatio });
 * ```
 */
export function drawSparkline(canvas: HTMLCanvasElement, ticks: readonly Tick[], { stale, pixelRatio }: { stale: boolean; pixelRatio: number }): { low: number; high: number } | undefined {
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (width === 0 || height === 0) return undefined;
  if (canvas.width !== Math.round(width * pixelRatio)) canvas.width = Math.round(width * pixelRatio);
  if (canvas.height !== Math.round(height * pixelRatio)) canvas.height = Math.round(height * pixelRatio);
  const ctx = canvas.getContext("2d");
  if (!ctx) return undefined;
  ctx.setTransform(pixelRatio, 0, 0, pixelRatio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  if (ticks.length < 2) return undefined;
  let low = Infinity;
  let high = -Infinity;
  for (const tick of ticks) {
    low = Math.min(low, tick.price);
    high = Math.max(high, tick.price);
  }
  const span = Math.max(high - low, MIN_SPAN);
  const t0 = ticks[0]!.ts;
  const dt = Math.max(ticks.at(-1)!.ts - t0, 1);
  const x = (t: number) => ((t - t0) / dt) * (width - 2 * PAD_X_PX) + PAD_X_PX;
  const y = (p: number) => height - PAD_Y_PX - ((p - low) / span) * (height - 2 * PAD_Y_PX);
  const rising = ticks.at(-1)!.price >= ticks[0]!.price;
  ctx.beginPath();
  ticks.forEach((tick, i) => (i === 0 ? ctx.moveTo(x(tick.ts), y(tick.price)) : ctx.lineTo(x(tick.ts), y(tick.price))));
  ctx.strokeStyle = stale ? theme.stale : rising ? theme.up : theme.down;
  ctx.lineWidth = 1.5;
  ctx.lineJoin = "round";
  ctx.stroke();
  return { low, high };
}
