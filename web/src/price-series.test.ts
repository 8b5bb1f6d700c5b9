import { expect, test } from "bun:test";
import { createPriceSeries } from "./price-series.ts";

const tick = (ts: number, price = ts) => ({ symbol: "BTC-USD" as const, price, ts });

test("keeps ticks in time order, one per ts, whatever the arrival order", () => {
  const series = createPriceSeries();
  for (const ts of [5, 1, 3, 5, 2, 4, 3, 6]) series.add(tick(ts));
  expect(series.between(0, 100).map((t) => t.ts)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(series.last()?.ts).toBe(6);
});

test("between includes the tick just before the window; trimBefore drops old ticks", () => {
  const series = createPriceSeries();
  for (const ts of [10, 20, 30, 40]) series.add(tick(ts));
  expect(series.between(25, 35).map((t) => t.ts)).toEqual([20, 30]);
  expect(series.between(20, 30).map((t) => t.ts)).toEqual([10, 20, 30]);
  series.trimBefore(25);
  expect(series.between(0, 100).map((t) => t.ts)).toEqual([30, 40]);
  expect(series.size()).toBe(2);
});
