import { describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
// Real grids, as the API prices them: the codec must give back exactly what GET /api/grid serves.
import { defaultGridSettings, type GridSettings } from "../api/grid/build-grid.ts";
import { createGridService } from "../api/grid/grid-service.ts";
import type { Market } from "../api/market/market.ts";
import { CompactGrid, Grid } from "./contracts/grid.ts";
import { compactGrid, compactGridMismatch, expandGrid } from "./grid-codec.ts";

/** The grid the API serves at `now` for a tick of `price` dollars and volatility `sigma`. */
function realGrid(now: number, price: number, sigma: number, settings: GridSettings = defaultGridSettings): Grid {
  const market = { fresh: () => ({ symbol: "BTC-USD" as const, price, ts: now - 40 }), sigma: () => sigma } as unknown as Market;
  const grid = createGridService({ market, settings }).current(now);
  if (!grid) throw new Error("no grid");
  return grid;
}

const SECOND = 1_767_225_600_000;
// Prices with and without cents, a low one whose lowest bands fall below 0, volatilities from calm to wild,
// and times early and late in a column (a late one locks the first column).
const grids = [
  realGrid(SECOND + 100, 87_415.3, 0.0004),
  realGrid(SECOND + 3_500, 87_415.3, 0.0004),
  realGrid(SECOND + 4_999, 42_000, 0.0001),
  realGrid(SECOND + 1_234, 42_000.07, 0.00002),
  realGrid(SECOND + 2_600, 101_999.99, 0.002),
  realGrid(SECOND + 3_100, 55.55, 0.01),
  realGrid(SECOND + 700, 64_321.5, 0.0006, { ...defaultGridSettings, columns: 3, rowsEachSide: 2, columnMs: 10_000, bandCents: 1_050 }),
];

describe("compactGrid and expandGrid", () => {
  test("the grids tried hold locked and open columns, capped cells, cells not offered, spots with no cell, and band edges with cents", () => {
    const cells = grids.flatMap((grid) => grid.cells);
    expect(cells.some((cell) => cell.locked)).toBe(true);
    expect(cells.some((cell) => !cell.locked)).toBe(true);
    expect(cells.some((cell) => cell.multiplier === defaultGridSettings.maxMultiplier)).toBe(true);
    expect(cells.some((cell) => !cell.offered)).toBe(true);
    expect(cells.some((cell) => cell.offered)).toBe(true);
    expect(grids.some((grid) => grid.cells.length < compactGrid(grid).columns * compactGrid(grid).bands)).toBe(true);
    // Bands of $10.50: edges with cents, which go through dollars × 100 and back.
    expect(cells.some((cell) => cell.price_low !== Math.round(cell.price_low))).toBe(true);
  });

  test("expandGrid(compactGrid(grid)) is the grid, for every grid tried, through JSON as on the wire", () => {
    for (const grid of grids) {
      const compact = compactGrid(grid);
      expect([...Value.Errors(CompactGrid, compact)]).toEqual([]);
      expect(compactGridMismatch(compact)).toBeUndefined();
      expect(expandGrid(compact)).toEqual(grid);
      const wire = JSON.parse(JSON.stringify(compact)) as CompactGrid;
      expect(Value.Check(CompactGrid, wire)).toBe(true);
      expect(expandGrid(wire)).toEqual(grid);
      expect(Value.Check(Grid, expandGrid(wire))).toBe(true);
    }
  });

  test("the default 12 × 21 grid's compact JSON is at least 8 times smaller than its full JSON", () => {
    const grid = grids[0]!;
    const compact = compactGrid(grid);
    expect({ columns: compact.columns, bands: compact.bands }).toEqual({ columns: 12, bands: 21 });
    const full = JSON.stringify(grid).length;
    const small = JSON.stringify(compact).length;
    expect(full).toBeGreaterThan(30_000);
    expect(small * 8).toBeLessThanOrEqual(full);
  });

  test("an empty grid is a compact grid of no columns, and back", () => {
    const grid = { ...grids[0]!, cells: [] };
    const compact = compactGrid(grid);
    expect(compact).toMatchObject({ columns: 0, bands: 0, locked: "", multipliers: [], rtp_e4: [], offered: "" });
    expect(expandGrid(compact)).toEqual(grid);
  });

  test("the contract's example expands to the Grid's example", () => {
    const [example] = CompactGrid.examples as CompactGrid[];
    expect(expandGrid(example!)).toEqual((Grid.examples as Grid[])[0]!);
    expect(compactGrid((Grid.examples as Grid[])[0]!)).toEqual(example!);
  });

  test("a grid the compact form cannot give back exactly is refused with a RangeError", () => {
    const grid = grids[0]!;
    const [a, b] = grid.cells as [Grid["cells"][number], Grid["cells"][number]];
    const withCells = (cells: Grid["cells"]) => ({ ...grid, cells });
    for (const bad of [
      withCells([b, a]), // out of order
      withCells([a, a]), // one spot twice
      withCells([{ ...a, t_end: a.t_end + 1 }]), // not a whole column
      withCells([{ ...a, price_low: a.price_low + 0.5, price_high: a.price_high + 0.5 }, b]), // off the bands
      withCells([{ ...a, price_high: a.price_high + 1 }]),
      withCells([{ ...a, t_start: a.t_start + 1, t_end: a.t_end + 1 }, b]), // off the columns
      withCells([{ ...a, rtp: 0.12345 }]), // five decimals
      withCells([{ ...a, multiplier: 0 }]), // 0 stands for no cell
      withCells([a, { ...b, locked: !a.locked }]), // one column, half locked
    ]) {
      expect(() => compactGrid(bad)).toThrow(RangeError);
    }
  });

  test("a compact grid whose parts disagree is named and refused by expandGrid", () => {
    const compact = compactGrid(grids[0]!);
    expect(compactGridMismatch({ ...compact, offered: "1" })).toBe("offered has 1 cells, not 252");
    expect(compactGridMismatch({ ...compact, rtp_e4: [] })).toBe("rtp_e4 has 0 cells, not 252");
    expect(compactGridMismatch({ ...compact, multipliers: compact.multipliers.slice(1) })).toBe("multipliers has 251 cells, not 252");
    expect(compactGridMismatch({ ...compact, locked: "1" })).toBe("locked has 1 columns, not 12");
    expect(compactGridMismatch({ ...compact, columns: 1.5 })).toStartWith("columns × bands is not a count");
    expect(compactGridMismatch({ ...compact, band: 0 })).toBe("a grid with cells needs a column_ms and a band above 0");
    expect(() => expandGrid({ ...compact, offered: "" })).toThrow(RangeError);
  });
});
