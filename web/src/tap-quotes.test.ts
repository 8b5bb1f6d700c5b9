import { describe, expect, test } from "bun:test";
import type { Grid } from "../../common/contracts/grid.ts";
import { cellKey, createPricedGrid } from "./grid-model.ts";
import { createSlippageSetting, withTapQuotes } from "./tap-quotes.ts";

const gridAt = (ts: number, multiplier: number): Grid => ({
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
  cells: [42_000, 42_010].map((low) => ({ t_start: 15_000, t_end: 20_000, price_low: low, price_high: low + 10, multiplier, rtp: 0.94, offered: true, locked: false })),
});
const key = cellKey(15_000, 42_010);

describe("tap quotes", () => {
  test("a tap asks for the multiplier its cell shows, under the quote id of the grid that priced it", () => {
    const priced = withTapQuotes(createPricedGrid());
    priced.update(gridAt(10_000, 37.4));
    const seen = priced.cell(key)!;
    priced.update(gridAt(10_500, 8.71));
    expect(priced.quoteFor(seen)).toEqual({ minMultiplier: 37.4, quoteId: "q10000" });
    expect(priced.quoteFor(priced.cell(key)!)).toEqual({ minMultiplier: 8.71, quoteId: "q10500" });
  });

  test("after quote_changed, the next tap on that cell (only) asks for the current multiplier, once", () => {
    const priced = withTapQuotes(createPricedGrid());
    priced.update(gridAt(10_000, 37.4));
    const cell = priced.cell(key)!;
    const other = priced.cell(cellKey(15_000, 42_000))!;
    const refused = { ok: false, code: "quote_changed", message: "Now 8.71×", currentMultiplier: 8.71 } as const;
    priced.answered(cell, refused);
    expect(priced.quoteFor(cell)).toEqual({ minMultiplier: 8.71, quoteId: "q10000" });
    expect(priced.quoteFor(cell).minMultiplier).toBe(37.4);
    priced.answered(cell, refused);
    expect(priced.quoteFor(other).minMultiplier).toBe(37.4);
    expect(priced.quoteFor(cell).minMultiplier).toBe(37.4);
    priced.answered(cell, { ok: false, code: "cell_locked", message: "too late" });
    expect(priced.quoteFor(cell).minMultiplier).toBe(37.4);
  });
});

test("with the player's 2 % tolerance on, a first tap asks 2 % below the shown multiplier, a retry 2 % below the refusal's", () => {
  const kept = new Map<string, string>();
  const store = { getItem: (k: string) => kept.get(k) ?? null, setItem: (k: string, v: string) => void kept.set(k, v) };
  const setting = createSlippageSetting(store);
  expect(setting.value()).toBe(0);
  setting.set(true);
  expect(createSlippageSetting(store).enabled()).toBe(true);
  const priced = withTapQuotes(createPricedGrid(), { tolerance: setting.value });
  priced.update(gridAt(10_000, 10));
  const cell = priced.cell(key)!;
  expect(priced.quoteFor(cell).minMultiplier).toBeCloseTo(9.8, 10);
  priced.answered(cell, { ok: false, code: "quote_changed", message: "Now 9.5×", currentMultiplier: 9.5 });
  expect(priced.quoteFor(cell).minMultiplier).toBeCloseTo(9.31, 10);
  setting.set(false);
  priced.answered(cell, { ok: false, code: "quote_changed", message: "Now 9.4×", currentMultiplier: 9.4 });
  expect(priced.quoteFor(cell).minMultiplier).toBe(9.4);
});
