import { expect, test } from "bun:test";
import { DEFAULT_GRID } from "./grid-model.ts";
import { boardLayout, createPriceFollower, scalesFor } from "./scales.ts";

test("a desktop board shows about eight future columns, a phone at least four tappable ones", () => {
  const desktop = boardLayout(1280, 640);
  expect((desktop.plotWidth - desktop.nowX) / desktop.columnWidth).toBeGreaterThan(7);
  const phone = boardLayout(390, 560);
  expect(phone.columnWidth).toBeGreaterThanOrEqual(44);
  expect(phone.rowHeight).toBeGreaterThanOrEqual(32);
  expect((phone.plotWidth - phone.nowX) / phone.columnWidth).toBeGreaterThanOrEqual(4);
});

test("scales map time and price both ways", () => {
  const layout = boardLayout(1280, 640);
  const s = scalesFor(layout, DEFAULT_GRID, 100_000, 42_000);
  expect(s.x(100_000)).toBe(layout.nowX);
  expect(s.x(105_000) - s.x(100_000)).toBeCloseTo(layout.columnWidth);
  expect(s.y(42_010) - s.y(42_000)).toBeCloseTo(-layout.rowHeight);
  expect(s.timeAt(s.x(123_456))).toBeCloseTo(123_456);
  expect(s.priceAt(s.y(41_987.5))).toBeCloseTo(41_987.5);
});

test("the view holds still near the centre, pans back to the price near an edge, and jumps on a gap", () => {
  const follower = createPriceFollower();
  const step = (price: number, hold = false) => follower.follow({ price, halfRange: 100, dtMs: 16, hold });
  expect(step(42_000)).toBe(42_000);
  expect(step(42_040)).toBe(42_000);
  const first = step(42_060);
  expect(first).toBeGreaterThan(42_000);
  let center = first;
  for (let i = 0; i < 100; i++) center = step(42_060);
  expect(Math.abs(center - 42_060)).toBeLessThanOrEqual(5); // stops within 5% of the half range
  // Pointing at the grid: the view waits longer before it moves.
  expect(step(42_130, true)).toBe(center);
  expect(step(42_150, true)).toBeGreaterThan(center);
  expect(step(43_000)).toBe(43_000);
});
