import { describe, expect, test } from "bun:test";
import type { Tick } from "../../common/contracts/price.ts";
import type { Market } from "../market/market.ts";
import { buildGrid, defaultGridSettings, priceCell } from "./build-grid.ts";
import { createGridService, QUOTE_TTL_MS } from "./grid-service.ts";

const settings = defaultGridSettings; // 5 s columns, $10 bands, 12 columns, 10 rows each side, 2 s lock
const sigma = 0.0004;
/** 3.766 s before the first column (1_700_000_005_000): no column is locked. */
const now = 1_700_000_001_234;
const firstStart = 1_700_000_005_000;
/** The band holding 42_000.37. */
const centreLow = 4_200_000;

/** A market whose fresh tick and volatility the test sets; `tick: undefined` is no fresh price. */
function fakeMarket(tick: Tick | undefined, marketSigma = sigma): Market & { tick: Tick | undefined } {
  const market = {
    tick,
    observe() {},
    latest: () => market.tick,
    sigma: () => marketSigma,
    fresh: () => market.tick,
    doubt() {},
  };
  return market;
}

const btc = (price: number, ts = now - 100): Tick => ({ symbol: "BTC-USD", price, ts });
const cellAt = (column: number, row: number) => {
  const t_start = firstStart + column * settings.columnMs;
  const lowCents = centreLow + row * settings.bandCents;
  return { t_start, t_end: t_start + settings.columnMs, lowCents, highCents: lowCents + settings.bandCents };
};

describe("createGridService: current", () => {
  test("without a fresh price there is no grid", () => {
    expect(createGridService({ market: fakeMarket(undefined), settings }).current(now)).toBeUndefined();
  });

  test("is buildGrid's cells in dollars, with the tick, the settings and a quote standing QUOTE_TTL_MS", () => {
    const grid = createGridService({ market: fakeMarket(btc(42_000.37)), settings }).current(now)!;
    const expected = buildGrid(now, 4_200_037, sigma, settings);
    expect(grid).toMatchObject({
      ts: now,
      price: 42_000.37,
      price_ts: now - 100,
      sigma,
      expires_at: now + QUOTE_TTL_MS,
      column_ms: 5000,
      band: 10,
      lock_ms: 2000,
      house_edge: 0.05,
      min_rtp: 0.9,
    });
    expect(grid.cells).toHaveLength(expected.length);
    const first = expected[0]!;
    expect(grid.cells[0]).toEqual({
      t_start: first.t_start,
      t_end: first.t_end,
      price_low: first.lowCents / 100,
      price_high: first.highCents / 100,
      multiplier: first.multiplier,
      rtp: first.rtp,
      offered: first.offered,
      locked: first.locked,
    });
  });

  test("the same tick's grid is served again for cacheMs; later, or on a new tick, a new quote is priced", () => {
    const market = fakeMarket(btc(42_000.37));
    const grids = createGridService({ market, settings, cacheMs: 200 });
    const first = grids.current(now)!;
    expect(grids.current(now + 199)).toBe(first);
    const later = grids.current(now + 200)!;
    expect(later.ts).toBe(now + 200);
    expect(later.quote_id).not.toBe(first.quote_id);

    market.tick = btc(42_001, now + 250);
    const moved = grids.current(now + 260)!;
    expect(moved.price).toBe(42_001);
    expect(moved.quote_id).not.toBe(later.quote_id);
  });

  test("every quote id is new, even for grids priced in the same millisecond", () => {
    const grids = createGridService({ market: fakeMarket(btc(42_000.37)), settings, cacheMs: 0 });
    const ids = new Set(Array.from({ length: 5 }, () => grids.current(now)!.quote_id));
    expect(ids.size).toBe(5);
  });
});

describe("createGridService: judge", () => {
  const grids = createGridService({ market: fakeMarket(btc(42_000.37)), settings });

  test("a cell the grid shows is accepted at the grid's multiplier", () => {
    const shown = grids.current(now)!.cells.filter((cell) => !cell.locked);
    expect(shown.length).toBeGreaterThan(0);
    for (const cell of shown) {
      const asked = { t_start: cell.t_start, t_end: cell.t_end, lowCents: Math.round(cell.price_low * 100), highCents: Math.round(cell.price_high * 100) };
      // Accepted at its price now; the grid showed its quote, the lower of now and a second on.
      const verdict = grids.judge(asked, now);
      expect(verdict).toMatchObject({ ok: true, quoted: cell.multiplier });
      expect(verdict.ok && verdict.multiplier).toBeGreaterThanOrEqual(cell.multiplier);
    }
  });

  test("a cell not aligned to the columns and bands is off_grid", () => {
    const good = cellAt(1, 3);
    expect(grids.judge(good, now).ok).toBe(true);
    for (const bad of [
      { ...good, t_start: good.t_start + 1, t_end: good.t_end + 1 },
      { ...good, t_end: good.t_end + settings.columnMs },
      { ...good, lowCents: good.lowCents + 1, highCents: good.highCents + 1 },
      { ...good, highCents: good.highCents + settings.bandCents },
    ]) {
      expect(grids.judge(bad, now)).toEqual({ ok: false, reason: "off_grid" });
    }
  });

  test("a cell starting within lockMs is cell_locked; one starting exactly lockMs from now is not", () => {
    const cell = cellAt(0, 3);
    const atLock = cell.t_start - settings.lockMs;
    expect(grids.judge(cell, atLock).ok).toBe(true);
    expect(grids.judge(cell, atLock + 1)).toEqual({ ok: false, reason: "cell_locked" });
    expect(grids.judge(cell, cell.t_start + 1)).toEqual({ ok: false, reason: "cell_locked" });
  });

  test("a column past the grid's last, or a row past rowsEachSide, is off_grid", () => {
    const { columns, rowsEachSide } = settings;
    expect(grids.judge(cellAt(columns - 1, 3), now).ok).toBe(true);
    expect(grids.judge(cellAt(columns, 3), now)).toEqual({ ok: false, reason: "off_grid" });
    expect(grids.judge(cellAt(1, rowsEachSide), now).ok).toBe(true);
    expect(grids.judge(cellAt(1, -rowsEachSide), now).ok).toBe(true);
    expect(grids.judge(cellAt(1, rowsEachSide + 1), now)).toEqual({ ok: false, reason: "off_grid" });
    expect(grids.judge(cellAt(1, -rowsEachSide - 1), now)).toEqual({ ok: false, reason: "off_grid" });
  });

  test("a cell that would pay under minMultiplier is off_grid, as it is absent from the grid", () => {
    // A calm market, the price mid-band: that band is all but sure to be touched.
    const calm = createGridService({ market: fakeMarket(btc(42_005), 0.000_01), settings });
    const sure = cellAt(0, 0);
    expect(calm.judge(sure, now)).toEqual({ ok: false, reason: "off_grid" });
    expect(calm.current(now)!.cells.some((cell) => cell.t_start === sure.t_start && cell.price_low === 42_000)).toBe(false);
  });

  test("a cell the grid shows as not offered (expected return under minRtp) is not_offered, with its return; an offered one is taken", () => {
    const calm = createGridService({ market: fakeMarket(btc(42_000.37), 0.0001), settings });
    const shown = calm.current(now)!.cells;
    const far = shown.find((cell) => !cell.offered && !cell.locked)!;
    const near = shown.find((cell) => cell.offered && !cell.locked)!;
    const cents = (cell: typeof far) => ({ t_start: cell.t_start, t_end: cell.t_end, lowCents: Math.round(cell.price_low * 100), highCents: Math.round(cell.price_high * 100) });
    expect(far.rtp).toBeLessThan(settings.minRtp);
    expect(calm.judge(cents(far), now)).toEqual({ ok: false, reason: "not_offered", rtp: far.rtp });
    expect(calm.judge(cents(near), now)).toMatchObject({ ok: true, quoted: near.multiplier });
  });

  test("a cell shown at the cap because its fair multiplier is above it is not_offered, though it would return more than minRtp there", () => {
    const calm = createGridService({ market: fakeMarket(btc(42_000.37), 0.0001), settings });
    const capped = calm.current(now)!.cells.filter((cell) => !cell.offered && !cell.locked && cell.rtp >= settings.minRtp);
    expect(capped.length).toBeGreaterThan(0);
    for (const cell of capped) {
      expect(cell.multiplier).toBe(settings.maxMultiplier);
      const verdict = calm.judge({ t_start: cell.t_start, t_end: cell.t_end, lowCents: Math.round(cell.price_low * 100), highCents: Math.round(cell.price_high * 100) }, now);
      expect(verdict).toEqual({ ok: false, reason: "not_offered", rtp: cell.rtp });
    }
  });

  test("without a fresh price a good cell is no_price", () => {
    const blind = createGridService({ market: fakeMarket(undefined), settings });
    expect(blind.judge(cellAt(1, 3), now)).toEqual({ ok: false, reason: "no_price" });
  });

  test("prices the cell at the tick fresh now, not at the cached grid's", () => {
    const market = fakeMarket(btc(42_000.37));
    const live = createGridService({ market, settings });
    live.current(now);
    market.tick = btc(42_025, now + 50);
    const cell = cellAt(1, 3);
    expect(live.judge(cell, now + 60)).toMatchObject({ ok: true, multiplier: priceCell(cell, now + 60, 4_202_500, sigma, settings)!.multiplier });
    expect(priceCell(cell, now + 60, 4_202_500, sigma, settings)).not.toBe(priceCell(cell, now + 60, 4_200_037, sigma, settings));
  });
});
