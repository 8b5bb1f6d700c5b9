/**
 * Where the chart paints, recorded mark by mark on a fake 2D context. A browser's pixels cannot tell: the axes are
 * painted last, over whatever ran out of the plot. The records can: a price line that left its plot's clip straddles
 * the plot's edge.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import type { Tick } from "../../common/contracts/price.ts";
import { createChartView } from "./chart-view.ts";
import { DEFAULT_GRID } from "./grid-model.ts";
import type { Pan } from "./pan.ts";
import { type BoardLayout, boardLayout, scalesFor } from "./scales.ts";
import { theme } from "./theme.ts";

/** A box in CSS pixels: left, top, right, bottom. */
type Box = { l: number; t: number; r: number; b: number };

const intersect = (a: Box, b: Box): Box | undefined => {
  const box = { l: Math.max(a.l, b.l), t: Math.max(a.t, b.t), r: Math.min(a.r, b.r), b: Math.min(a.b, b.b) };
  return box.l < box.r && box.t < box.b ? box : undefined;
};
const within = (a: Box, b: Box) => a.l >= b.l && a.r <= b.r && a.t >= b.t && a.b <= b.b;

/** The points a path passes through (an arc as its square), enough to know where it paints. */
class FakePath {
  points: [number, number][] = [];
  constructor(from?: FakePath) {
    if (from) this.points = [...from.points];
  }
  moveTo(x: number, y: number) {
    this.points.push([x, y]);
  }
  lineTo(x: number, y: number) {
    this.points.push([x, y]);
  }
  closePath() {}
  rect(x: number, y: number, w: number, h: number) {
    this.points.push([x, y], [x + w, y + h]);
  }
  arc(x: number, y: number, radius: number) {
    this.points.push([x - radius, y - radius], [x + radius, y + radius]);
  }
  box(): Box {
    const xs = this.points.map(([x]) => x);
    const ys = this.points.map(([, y]) => y);
    return { l: Math.min(...xs), t: Math.min(...ys), r: Math.max(...xs), b: Math.max(...ys) };
  }
}

/** One mark on the canvas: how it was painted, and the part of it that shows (inside the clip and the canvas). */
interface Mark {
  style: unknown;
  shows: Box | undefined;
}

/** A 2D context that paints nothing and records, for every mark, the part of the canvas it reaches through the clip. */
function recordingContext(canvasBox: () => Box) {
  const marks: Mark[] = [];
  let path = new FakePath();
  let clip: Box | undefined;
  const saved: (Box | undefined)[] = [];
  const paint = (style: unknown, box: Box) => {
    const seen = intersect(box, canvasBox());
    marks.push({ style, shows: seen && clip ? intersect(seen, clip) : seen });
  };
  const ctx = {
    marks,
    fillStyle: "" as unknown,
    strokeStyle: "" as unknown,
    setTransform() {},
    save: () => void saved.push(clip),
    restore: () => void (clip = saved.pop()),
    beginPath: () => void (path = new FakePath()),
    moveTo: (x: number, y: number) => path.moveTo(x, y),
    lineTo: (x: number, y: number) => path.lineTo(x, y),
    rect: (x: number, y: number, w: number, h: number) => path.rect(x, y, w, h),
    arc: (x: number, y: number, radius: number) => path.arc(x, y, radius),
    closePath() {},
    clip() {
      const box = path.box();
      clip = clip ? (intersect(clip, box) ?? { l: 0, t: 0, r: 0, b: 0 }) : box;
    },
    setLineDash() {},
    createLinearGradient: () => ({ addColorStop() {} }),
    measureText: (text: string) => ({ width: text.length * 7 }),
    fillRect(x: number, y: number, w: number, h: number) {
      paint(ctx.fillStyle, { l: x, t: y, r: x + w, b: y + h });
    },
    strokeRect(x: number, y: number, w: number, h: number) {
      paint(ctx.strokeStyle, { l: x, t: y, r: x + w, b: y + h });
    },
    fillText(_text: string, x: number, y: number) {
      paint(ctx.fillStyle, { l: x, t: y, r: x + 1, b: y + 1 });
    },
    fill: (drawn?: FakePath) => paint(ctx.fillStyle, (drawn ?? path).box()),
    stroke: (drawn?: FakePath) => paint(ctx.strokeStyle, (drawn ?? path).box()),
  };
  return ctx;
}

const NOW = 1_000_000;
const CENTER = 42_000;
const layout: BoardLayout = boardLayout(1280, 640);
const plot: Box = { l: 0, t: 0, r: layout.plotWidth, b: layout.plotHeight };
const priceAxis: Box = { l: layout.plotWidth, t: 0, r: layout.width, b: layout.height };
const timeAxis: Box = { l: 0, t: layout.plotHeight, r: layout.width, b: layout.height };

/** A minute of ticks, five a second, swinging 40 dollars (four rows) either side of the centre. */
const ticks: Tick[] = Array.from({ length: 300 }, (_, i) => ({ symbol: "BTC-USD", price: CENTER + 40 * Math.sin(i / 8), ts: NOW - 60_000 + i * 200 }));

/** Draws one frame with the view panned by `pan`, and returns what it painted. */
function drawPanned(pan: Pan): Mark[] {
  const ctx = recordingContext(() => ({ l: 0, t: 0, r: layout.width, b: layout.height }));
  const canvas = { getContext: () => ctx, style: {}, width: 0, height: 0 } as unknown as HTMLCanvasElement;
  const chart = createChartView(canvas);
  chart.resize(layout, 1);
  chart.draw({ layout, scales: scalesFor(layout, DEFAULT_GRID, NOW, CENTER, pan), spec: DEFAULT_GRID, ticks, price: ticks.at(-1)!.price, stale: false, pastBets: [] });
  return ctx.marks;
}

/** Views where the price line crosses an edge of the plot: below, above, into the price axis, off to the left. */
const PAST_THE_PLOT = layout.plotWidth - layout.nowX + 2 * layout.columnWidth;
const PANS: Record<string, Pan> = {
  "the price's row on the plot's bottom edge": { x: 0, y: layout.plotHeight / 2 },
  "the price's row on the plot's top edge": { x: 0, y: -layout.plotHeight / 2 },
  "now two columns right of the plot": { x: -PAST_THE_PLOT, y: 0 },
  "now two columns right of the plot and the price on the bottom edge": { x: -PAST_THE_PLOT, y: layout.plotHeight / 2 },
  "now left of the plot": { x: layout.nowX + 2 * layout.columnWidth, y: 0 },
};

beforeAll(() => {
  // Bun has no canvas: the chart's paths are recorded by the fake context's own path type.
  (globalThis as unknown as { Path2D: typeof FakePath }).Path2D = FakePath;
});

describe("the chart keeps every mark inside the plot or wholly inside an axis", () => {
  for (const [view, pan] of Object.entries(PANS)) {
    test(`with ${view}`, () => {
      const marks = drawPanned(pan);
      // The background's fill spans the whole canvas by design; everything else belongs to one region.
      const straddling = marks.filter(({ style, shows }) => style !== theme.background && shows && !within(shows, plot) && !within(shows, priceAxis) && !within(shows, timeAxis));
      expect(straddling).toEqual([]);
    });
  }

  test("the price line shows inside the plot when the view is panned (so the checks above look at a drawn line)", () => {
    const lineMarks = drawPanned(PANS["now two columns right of the plot and the price on the bottom edge"]!).filter(({ style, shows }) => style === theme.line && shows && intersect(shows, plot));
    expect(lineMarks.length).toBeGreaterThan(0);
  });
});

test("the now line is drawn while now is inside the plot, and not once a pan has moved it out", () => {
  const nowLines = (pan: Pan) => drawPanned(pan).filter(({ style }) => style === theme.nowLine).length;
  expect(nowLines({ x: 0, y: 0 })).toBe(1);
  expect(nowLines(PANS["now two columns right of the plot"]!)).toBe(0);
  expect(nowLines(PANS["now left of the plot"]!)).toBe(0);
});
