import { describe, expect, test } from "bun:test";
import type { Grid } from "../../common/contracts/grid.ts";
import { cellKey, createPricedGrid, DEFAULT_GRID, isLocked } from "./grid-model.ts";

const gridAt = (ts: number, starts: number[], multiplier = 2): Grid => ({
  ts,
  price: 42_015,
  price_ts: ts,
  sigma: 0.0003,
  quote_id: `q${ts}`,
  expires_at: ts + 1000,
  column_ms: 5000,
  band: 10,
  lock_ms: 2000,
  house_edge: 0.05,
  min_rtp: 0.9,
  cells: starts.flatMap((t) =>
    [42_000, 42_010].map((low) => ({ t_start: t, t_end: t + 5000, price_low: low, price_high: low + 10, multiplier, rtp: 0.94, offered: true, locked: t - ts < 2000 })),
  ),
});

describe("priced grid", () => {
  test("keys name a cell by its start and its band's low edge in cents, without float drift", () => {
    expect(cellKey(10_000, 42_010)).toBe("10000:4201000");
    expect(cellKey(10_000, 0.07)).toBe(cellKey(10_000, 0.07000000001));
  });

  test("cells lock within lock_ms of their start", () => {
    expect(isLocked({ t_start: 10_000, t_end: 15_000, price_low: 1, price_high: 2 }, 8_001, DEFAULT_GRID)).toBe(true);
    expect(isLocked({ t_start: 10_000, t_end: 15_000, price_low: 1, price_high: 2 }, 7_999, DEFAULT_GRID)).toBe(false);
  });

  test("takes the newest grid; the column under way stays, locked, until its window ends", () => {
    const grid = createPricedGrid();
    expect(grid.cells(0)).toEqual([]);
    expect(grid.spec()).toEqual(DEFAULT_GRID);
    grid.update(gridAt(9_000, [10_000, 15_000]));
    expect(grid.cells(9_000).map((c) => c.key)).toEqual(["10000:4200000", "10000:4201000", "15000:4200000", "15000:4201000"]);
    expect(grid.cell("15000:4201000")).toMatchObject({ multiplier: 2, locked: false });

    grid.update(gridAt(11_000, [15_000, 20_000], 3));
    const cells = grid.cells(11_000);
    expect(cells.map((c) => c.key)).toEqual(["10000:4200000", "10000:4201000", "15000:4200000", "15000:4201000", "20000:4200000", "20000:4201000"]);
    expect(grid.cell("10000:4200000")).toMatchObject({ multiplier: 2, locked: true });
    expect(grid.cell("15000:4200000")).toMatchObject({ multiplier: 3 });

    // An older grid (the HTTP answer after a websocket one) is ignored.
    grid.update(gridAt(10_000, [15_000], 9));
    expect(grid.latest()?.quote_id).toBe("q11000");
    expect(grid.cell("15000:4200000")?.multiplier).toBe(3);

    expect(grid.cells(15_000).map((c) => c.t_start)).toEqual([15_000, 15_000, 20_000, 20_000]);
    expect(grid.cell("10000:4200000")).toBeUndefined();
  });

  test("the geometry comes from the grid", () => {
    const grid = createPricedGrid();
    grid.update({ ...gridAt(0, []), column_ms: 10_000, band: 25, lock_ms: 3000, min_rtp: 0.85 });
    expect(grid.spec()).toEqual({ columnMs: 10_000, bandSize: 25, lockMs: 3000, minRtp: 0.85 });
  });
});
