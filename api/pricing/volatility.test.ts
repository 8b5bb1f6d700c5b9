import { describe, expect, test } from "bun:test";
import { createVolatilityEstimator } from "./volatility.ts";

function seededNormal(seed: number) {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

describe("createVolatilityEstimator", () => {
  test("recovers the per-second volatility of a random walk, whatever the tick interval", () => {
    for (const intervalMs of [250, 1000, 2000]) {
      const trueSigma = 0.0005;
      const normal = seededNormal(intervalMs);
      const estimator = createVolatilityEstimator({ floor: 1e-6, timeConstantS: 600 });
      let price = 42000;
      for (let i = 0; i < 20_000; i++) {
        price *= Math.exp(trueSigma * Math.sqrt(intervalMs / 1000) * normal());
        estimator.observe(price, i * intervalMs);
      }
      expect(Math.abs(estimator.sigma() / trueSigma - 1)).toBeLessThan(0.1);
    }
  });

  test("never reports less than the floor", () => {
    const estimator = createVolatilityEstimator({ floor: 0.0002 });
    for (let i = 0; i < 100; i++) estimator.observe(42000, i * 1000);
    expect(estimator.sigma()).toBe(0.0002);
  });

  test("ignores stale and out-of-order ticks and long gaps", () => {
    const estimator = createVolatilityEstimator({ floor: 1e-9, initial: 0.001 });
    estimator.observe(100, 1000);
    estimator.observe(200, 1000);
    estimator.observe(300, 500);
    expect(estimator.samples).toBe(0);
    estimator.observe(150, 1000 + 60_000);
    expect(estimator.samples).toBe(0);
    expect(estimator.sigma()).toBe(0.001);
  });
});
