import { describe, expect, test } from "bun:test";
import { touchProbability } from "../pricing/touch-probability.ts";
import { buildGrid, defaultGridSettings, multiplierFor } from "./build-grid.ts";

const settings = defaultGridSettings;
const now = 1_700_000_001_234;
const sigma = 0.0004;

describe("multiplierFor", () => {
  test("is (1 − edge)/P rounded down to cents, capped, and absent below the minimum", () => {
    expect(multiplierFor(0.5, settings)).toBe(1.9);
    expect(multiplierFor(0.3, settings)).toBe(3.16);
    expect(multiplierFor(0.001, settings)).toBe(100);
    expect(multiplierFor(0.95, settings)).toBeUndefined();
  });
});

describe("buildGrid", () => {
  const cells = buildGrid(now, 4_200_037, sigma, settings);

  test("columns are aligned future windows and rows are aligned bands around the price", () => {
    const starts = [...new Set(cells.map((c) => c.t_start))];
    expect(starts[0]).toBe(1_700_000_005_000);
    expect(starts.every((t) => t % settings.columnMs === 0)).toBe(true);
    expect(cells.every((c) => c.t_end - c.t_start === settings.columnMs)).toBe(true);
    expect(cells.every((c) => c.lowCents % settings.bandCents === 0 && c.highCents - c.lowCents === settings.bandCents)).toBe(true);
    expect(cells.some((c) => c.lowCents === 4_200_000)).toBe(true);
  });

  test("cells starting within the lock time are locked, the rest are not", () => {
    const soon = buildGrid(1_700_000_003_500, 4_200_037, sigma, settings);
    expect(soon.filter((c) => c.t_start === 1_700_000_005_000).every((c) => c.locked)).toBe(true);
    expect(soon.filter((c) => c.t_start === 1_700_000_010_000).every((c) => !c.locked)).toBe(true);
  });

  test("every offered cell's expected payout is at most 1 − edge, and at least the minimum multiplier", () => {
    for (const cell of cells) {
      const p = touchProbability({
        spot: 4_200_037,
        low: cell.lowCents,
        high: cell.highCents,
        startsIn: (cell.t_start - now) / 1000,
        endsIn: (cell.t_end - now) / 1000,
        sigma,
      });
      expect(p * cell.multiplier).toBeLessThanOrEqual(1 - settings.houseEdge + 1e-12);
      expect(cell.multiplier).toBeGreaterThanOrEqual(settings.minMultiplier);
      expect(cell.multiplier).toBeLessThanOrEqual(settings.maxMultiplier);
    }
  });

  test("bands further from the price pay more", () => {
    const column = cells.filter((c) => c.t_start === 1_700_000_010_000);
    const near = column.find((c) => c.lowCents === 4_201_000)!;
    const far = column.find((c) => c.lowCents === 4_205_000)!;
    expect(far.multiplier).toBeGreaterThan(near.multiplier);
  });
});
