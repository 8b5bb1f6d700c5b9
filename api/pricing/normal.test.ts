import { describe, expect, test } from "bun:test";
import { bivariateNormalCdf, normalCdf } from "./normal.ts";

/** P(X ≤ h, Y ≤ k) by direct integration: ∫ φ(z) Φ((k − r z)/√(1 − r²)) dz over z ≤ h (Simpson). */
function bivariateByIntegration(h: number, k: number, r: number): number {
  const lo = -9;
  const hi = Math.min(h, 9);
  if (hi <= lo) return 0;
  const n = 4000;
  const step = (hi - lo) / n;
  const s = Math.sqrt(1 - r * r);
  const f = (z: number) => (Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI)) * normalCdf((k - r * z) / s);
  let sum = f(lo) + f(hi);
  for (let i = 1; i < n; i++) sum += (i % 2 ? 4 : 2) * f(lo + i * step);
  return (sum * step) / 3;
}

describe("normalCdf", () => {
  test("matches known values", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963985)).toBeCloseTo(0.975, 7);
    expect(normalCdf(-1)).toBeCloseTo(0.158655254, 7);
    expect(normalCdf(-5)).toBeCloseTo(2.866516e-7, 9);
    expect(normalCdf(Number.POSITIVE_INFINITY)).toBe(1);
  });
});

describe("bivariateNormalCdf", () => {
  test("agrees with direct integration across correlations and limits", () => {
    let worst = 0;
    for (const r of [-0.99, -0.95, -0.8, -0.5, -0.2, 0, 0.1, 0.29, 0.31, 0.6, 0.76, 0.9, 0.93, 0.97, 0.995]) {
      for (const h of [-3, -1.2, -0.3, 0, 0.4, 1.5, 2.7]) {
        for (const k of [-2.5, -0.7, 0, 0.2, 1.1, 3]) {
          const error = Math.abs(bivariateNormalCdf(h, k, r) - bivariateByIntegration(h, k, r));
          worst = Math.max(worst, error);
        }
      }
    }
    expect(worst).toBeLessThan(1e-6);
  });

  test("reduces to products and margins at the edges", () => {
    expect(bivariateNormalCdf(0, 0, 0)).toBeCloseTo(0.25, 7);
    expect(bivariateNormalCdf(1, 0.5, 0)).toBeCloseTo(normalCdf(1) * normalCdf(0.5), 7);
    expect(bivariateNormalCdf(Number.POSITIVE_INFINITY, 0.7, 0.4)).toBeCloseTo(normalCdf(0.7), 7);
    expect(bivariateNormalCdf(0, 0, 0.5)).toBeCloseTo(1 / 4 + Math.asin(0.5) / (2 * Math.PI), 7);
  });
});
