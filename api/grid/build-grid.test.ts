import { describe, expect, test } from "bun:test";
import { touchProbability } from "../pricing/touch-probability.ts";
import { buildGrid, defaultGridSettings, multiplierFor, priceCell, quoteFor, quotedMultiplier } from "./build-grid.ts";

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

describe("quoteFor", () => {
  test("offers a cell whose expected return is at least MIN_RTP; a capped far cell that returns less is shown but not offered", () => {
    expect(quoteFor(0.5, settings)).toEqual({ multiplier: 1.9, rtp: 0.95, offered: true });
    // Fair 95×: under the cap, returns 0.9495.
    expect(quoteFor(0.01, settings)).toEqual({ multiplier: 95, rtp: 0.95, offered: true });
    // Fair 190×, capped at 100: returns 0.5 of the stake.
    expect(quoteFor(0.005, settings)).toEqual({ multiplier: 100, rtp: 0.5, offered: false });
    // Exactly at the floor: 100 × 0.009 = 0.9.
    expect(quoteFor(0.009, settings)).toMatchObject({ multiplier: 100, offered: true });
    expect(quoteFor(0.95, settings)).toBeUndefined();
  });
});

describe("quotedMultiplier", () => {
  test("quotes the lower of the price now and a second on at the same spot: a cell holding the price pays less as its window nears", () => {
    const cell = { t_start: 1_700_000_010_000, t_end: 1_700_000_015_000, lowCents: 4_200_000, highCents: 4_201_000 };
    const current = priceCell(cell, now, 4_200_537, sigma, settings)!.multiplier;
    const later = priceCell(cell, now + 1000, 4_200_537, sigma, settings)!.multiplier;
    expect(later).toBeLessThan(current);
    expect(quotedMultiplier(cell, now, 4_200_537, sigma, settings, current)).toBe(later);
    // A far band pays more as its window nears: its price now is the quote.
    const far = { ...cell, lowCents: 4_206_000, highCents: 4_207_000 };
    const farNow = priceCell(far, now, 4_200_537, sigma, settings)!.multiplier;
    expect(priceCell(far, now + 1000, 4_200_537, sigma, settings)!.multiplier).toBeGreaterThan(farNow);
    expect(quotedMultiplier(far, now, 4_200_537, sigma, settings, farNow)).toBe(farNow);
    // No horizon, or a cell that locks within it: the price of the instant.
    expect(quotedMultiplier(cell, now, 4_200_537, sigma, { ...settings, quoteHorizonMs: 0 }, current)).toBe(current);
    expect(quotedMultiplier(cell, cell.t_start - settings.lockMs - 500, 4_200_537, sigma, settings, 7)).toBe(7);
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

  test("in a calm market the far cells are shown as not offered, each returning less than MIN_RTP; every offered one returns between MIN_RTP and 1 − edge", () => {
    const calm = 0.0001;
    const grid = buildGrid(now, 4_200_037, calm, settings);
    const notOffered = grid.filter((cell) => !cell.offered);
    expect(notOffered.length).toBeGreaterThan(20);
    for (const cell of grid) {
      const p = touchProbability({ spot: 4_200_037, low: cell.lowCents, high: cell.highCents, startsIn: (cell.t_start - now) / 1000, endsIn: (cell.t_end - now) / 1000, sigma: calm });
      // The return is the price's now, at which a bet is accepted; the quote shown is never above it.
      const now_ = priceCell(cell, now, 4_200_037, calm, settings)!;
      expect(cell.multiplier).toBeLessThanOrEqual(now_.multiplier);
      const expected = p * now_.multiplier;
      if (cell.offered) {
        expect(expected).toBeGreaterThanOrEqual(settings.minRtp);
        expect(expected).toBeLessThanOrEqual(1 - settings.houseEdge + 1e-12);
      } else {
        expect(expected).toBeLessThan(settings.minRtp);
      }
      // The figure on the wire never claims more than the cell returns.
      expect(cell.rtp).toBeLessThanOrEqual(expected + 1e-12);
      expect(expected - cell.rtp).toBeLessThan(1e-4 + 1e-12);
    }
  });

  test("bands further from the price pay more", () => {
    const column = cells.filter((c) => c.t_start === 1_700_000_010_000);
    const near = column.find((c) => c.lowCents === 4_201_000)!;
    const far = column.find((c) => c.lowCents === 4_205_000)!;
    expect(far.multiplier).toBeGreaterThan(near.multiplier);
  });
});
