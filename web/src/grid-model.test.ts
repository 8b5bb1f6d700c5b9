import { describe, expect, test } from "bun:test";
import { bandLow, columnStart, DEFAULT_GRID, gridCell, isLocked, visibleBands, visibleColumns } from "./grid-model.ts";

const spec = DEFAULT_GRID;

describe("grid model", () => {
  test("columns are 5 s windows aligned to the clock", () => {
    expect(columnStart(1_700_000_002_499, spec)).toBe(1_700_000_000_000);
    expect(columnStart(1_700_000_005_000, spec)).toBe(1_700_000_005_000);
    expect(visibleColumns(12_500, 21_000, spec)).toEqual([10_000, 15_000, 20_000]);
    expect(visibleColumns(12_500, 20_000, spec)).toEqual([10_000, 15_000]);
  });

  test("bands are 10.00 wide on multiples of 10, without float drift", () => {
    expect(bandLow(42_017.99, spec)).toBe(42_010);
    expect(bandLow(42_010, spec)).toBe(42_010);
    expect(bandLow(42_009.999, spec)).toBe(42_010); // rounds to cents first: 42,010.00
    expect(bandLow(0.07, { ...spec, bandSize: 0.01 })).toBe(0.07);
    expect(visibleBands(41_995, 42_021, spec)).toEqual([41_990, 42_000, 42_010, 42_020]);
  });

  test("a cell carries its window, its band and a stable key", () => {
    expect(gridCell(10_000, 42_010, spec)).toEqual({
      key: "10000:4201000",
      t_start: 10_000,
      t_end: 15_000,
      price_low: 42_010,
      price_high: 42_020,
    });
  });

  test("a cell locks 2 s before its window starts", () => {
    const cell = gridCell(10_000, 42_010, spec);
    expect(isLocked(cell, 7_999, spec)).toBe(false);
    expect(isLocked(cell, 8_001, spec)).toBe(true);
    expect(isLocked(cell, 12_000, spec)).toBe(true);
  });
});
