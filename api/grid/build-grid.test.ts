import { describe, expect, test } from "bun:test";
import { touchByQuadrature } from "../../test/support/touch-quadrature.ts";
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
    // Fair 95×: under the cap, returns 0.95.
    expect(quoteFor(0.01, settings)).toEqual({ multiplier: 95, rtp: 0.95, offered: true });
    // Fair 190×, capped at 100: returns 0.5 of the stake.
    expect(quoteFor(0.005, settings)).toEqual({ multiplier: 100, rtp: 0.5, offered: false });
    expect(quoteFor(0.95, settings)).toBeUndefined();
    // MIN_RTP still decides where rounding down to the cent costs more than it allows: fair 1.1176× pays 1.11×.
    expect(quoteFor(0.85, { ...settings, minRtp: 0.945 })).toEqual({ multiplier: 1.11, rtp: 0.9435, offered: false });
  });

  test("the cap is never a price: a cell whose fair multiplier is just past MAX_MULTIPLIER is not offered, one just under it is", () => {
    const edge = settings.houseEdge;
    const cap = settings.maxMultiplier;
    // (1 − edge)/P a little above the cap's cents rounds down to exactly the cap: its own fair price, offered.
    const under = (1 - edge) / (cap + 0.005);
    expect(quoteFor(under, settings)).toMatchObject({ multiplier: cap, offered: true });
    // One cent past the cap: paying the cap would price it below its fair multiplier, so it is not offered,
    // though what it would return at the cap (above MIN_RTP) would pass the floor.
    const past = (1 - edge) / (cap + 0.015);
    const quote = quoteFor(past, settings)!;
    expect(quote).toMatchObject({ multiplier: cap, offered: false });
    expect(quote.rtp).toBeGreaterThan(settings.minRtp);
    // The same with another cap and edge.
    const other = { ...settings, houseEdge: 0.03, maxMultiplier: 40 };
    expect(quoteFor(0.97 / 40.005, other)).toMatchObject({ multiplier: 40, offered: true });
    expect(quoteFor(0.97 / 40.015, other)).toMatchObject({ multiplier: 40, offered: false });
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
      // And at least MIN_RTP at the multiplier a bet is accepted at now (the shown quote may be lower).
      if (cell.offered) expect(p * priceCell(cell, now, 4_200_037, sigma, settings)!.multiplier).toBeGreaterThanOrEqual(settings.minRtp);
    }
    expect(cells.filter((cell) => cell.offered).length).toBeGreaterThan(100);
  });

  test("recomputed with an independent touch probability, every offered cell of a calm and a lively grid returns between MIN_RTP and 1 − edge, and every other cell is one the rule excludes", () => {
    const spot = 4_200_037;
    // The independent P (test/support/touch-quadrature.ts) is within 1e-5 relative of the project's (its own test):
    // that moves a return of at most 1 by at most 1e-5, and a fair multiplier of at most ~100 by less than 0.01.
    const returnAllowance = 1e-5;
    const multiplierAllowance = 0.01;
    for (const [market, marketSigma] of [["calm", 0.0001], ["lively", 0.001]] as const) {
      const grid = buildGrid(now, spot, marketSigma, settings);
      const wrong: unknown[] = [];
      for (const cell of grid) {
        const p = touchByQuadrature({ spot, low: cell.lowCents, high: cell.highCents, startsIn: (cell.t_start - now) / 1000, endsIn: (cell.t_end - now) / 1000, sigma: marketSigma });
        // docs/rules.md, worked out again: the fair multiplier, rounded down to the cent; a bet is accepted at the price now.
        const fair = (1 - settings.houseEdge) / p;
        const accepted = priceCell(cell, now, spot, marketSigma, settings)!.multiplier;
        const expected = accepted * p;
        const problem = cell.offered
          ? Math.abs(accepted - Math.floor(fair * 100) / 100) > multiplierAllowance
            ? "not priced at its fair multiplier"
            : expected < settings.minRtp - returnAllowance
              ? "returns less than MIN_RTP"
              : expected > 1 - settings.houseEdge + returnAllowance
                ? "returns more than 1 − edge"
                : undefined
          : fair <= settings.maxMultiplier - multiplierAllowance && expected >= settings.minRtp + returnAllowance
            ? "not offered though under the cap and above MIN_RTP"
            : undefined;
        if (problem) wrong.push({ market, problem, cell, p, fair, accepted, expected });
        // The shown quote is never above the price a bet gets, and the wire's rtp is that price's return, rounded down.
        if (cell.multiplier > accepted) wrong.push({ market, problem: "quote above the price now", cell, accepted });
        if (cell.rtp > expected + returnAllowance || expected - cell.rtp >= 1e-4 + returnAllowance) wrong.push({ market, problem: "rtp is not the return at the price now", cell, expected });
      }
      expect(wrong).toEqual([]);
      // Both kinds are there to check: the calm grid's far cells are not offered, some because their fair multiplier is above the cap.
      expect(grid.filter((cell) => cell.offered).length).toBeGreaterThan(100);
      if (market === "calm") {
        expect(grid.filter((cell) => !cell.offered).length).toBeGreaterThan(20);
        expect(grid.some((cell) => !cell.offered && cell.rtp >= settings.minRtp)).toBe(true);
      }
    }
  });

  test("in a calm market the far cells are shown as not offered, each returning less than MIN_RTP or with a fair multiplier above the cap; every offered one returns between MIN_RTP and 1 − edge", () => {
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
        const fair = Math.floor(((1 - settings.houseEdge) / p) * 100 + 1e-9) / 100;
        expect({ cell, excluded: expected < settings.minRtp || fair > settings.maxMultiplier }).toEqual({ cell, excluded: true });
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
