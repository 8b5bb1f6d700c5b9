import { describe, expect, test } from "bun:test";
import { createMockSource } from "./mock.ts";

async function walk(options: { start: number; volatility: number; seed: number }, steps: number): Promise<number[]> {
  const source = createMockSource(options);
  const prices: number[] = [];
  for (let i = 0; i < steps; i++) prices.push((await source.sample()) as number);
  return prices;
}

function standardDeviation(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
}

describe("mock price source", () => {
  test("the same seed gives the same walk, another seed another", async () => {
    const a = await walk({ start: 42000, volatility: 0.001, seed: 7 }, 200);
    const b = await walk({ start: 42000, volatility: 0.001, seed: 7 }, 200);
    const c = await walk({ start: 42000, volatility: 0.001, seed: 8 }, 200);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  test("starts near the configured price and moves", async () => {
    const prices = await walk({ start: 42000, volatility: 0.0005, seed: 1 }, 50);
    expect(Math.abs((prices[0] as number) - 42000)).toBeLessThan(42000 * 0.0005 * 6);
    expect(new Set(prices).size).toBeGreaterThan(40);
    const low = await walk({ start: 100, volatility: 0.0005, seed: 1 }, 1);
    expect(Math.abs((low[0] as number) - 100)).toBeLessThan(1);
  });

  test("prices are whole cents", async () => {
    for (const price of await walk({ start: 42000, volatility: 0.002, seed: 3 }, 2000)) {
      expect(Number(price.toFixed(2))).toBe(price);
    }
  });

  test("never zero or negative, even walking down from a cent with wild volatility", async () => {
    const prices = await walk({ start: 0.02, volatility: 0.5, seed: 11 }, 20_000);
    expect(Math.min(...prices)).toBeGreaterThanOrEqual(0.01);
    expect(prices.every((p) => Number.isFinite(p))).toBe(true);
  });

  test("step size matches the configured volatility", async () => {
    for (const volatility of [0.0005, 0.002]) {
      const prices = await walk({ start: 42000, volatility, seed: 5 }, 20_000);
      const logReturns = prices.slice(1).map((p, i) => Math.log(p / (prices[i] as number)));
      const measured = standardDeviation(logReturns);
      expect(measured).toBeGreaterThan(volatility * 0.95);
      expect(measured).toBeLessThan(volatility * 1.05);
    }
  });

  test("zero volatility holds the start price", async () => {
    expect(await walk({ start: 42000, volatility: 0, seed: 1 }, 5)).toEqual([42000, 42000, 42000, 42000, 42000]);
  });

  test("rejects a start price or volatility it cannot walk", () => {
    expect(() => createMockSource({ start: 0, volatility: 0.001, seed: 1 })).toThrow(RangeError);
    expect(() => createMockSource({ start: 42000, volatility: -1, seed: 1 })).toThrow(RangeError);
    expect(() => createMockSource({ start: Number.NaN, volatility: 0.001, seed: 1 })).toThrow(RangeError);
  });
});
