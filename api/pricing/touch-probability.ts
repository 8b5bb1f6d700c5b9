import { bivariateNormalCdf, normalCdf } from "./normal.ts";

/**
 * A band of prices and a window of time, relative to now.
 *
 * ```ts
 * const question: TouchQuestion = { spot: 42_000, low: 42_030, high: 42_040, startsIn: 10, endsIn: 15, sigma: 0.0004 };
 * ```
 */
export interface TouchQuestion {
  /** The current price. */
  spot: number;
  low: number;
  high: number;
  /** Seconds from now until the window opens (0 when it is already open). */
  startsIn: number;
  /** Seconds from now until the window closes. */
  endsIn: number;
  /** Standard deviation of the log-price change over one second. */
  sigma: number;
}

/**
 * The probability that the price touches [low, high] at some moment of the
 * window, when the log-price is a driftless Brownian motion with volatility
 * `sigma` per √second.
 *
 * Three disjoint ways to touch: the price is inside the band when the window
 * opens; or it is above and later comes down to `high` before the window
 * closes; or it is below and rises to `low`. By the reflection principle,
 * P(above at t₁ and down to `high` by t₂) = 2·P(X(t₁) > high, X(t₂) < high),
 * a bivariate normal probability with correlation √(t₁/t₂).
 *
 * ```ts
 * touchProbability({ spot: 42_000, low: 42_030, high: 42_040, startsIn: 10, endsIn: 15, sigma: 0.0004 }); // ≈ 0.384
 * touchProbability({ spot: 42_000, low: 41_990, high: 42_010, startsIn: 0, endsIn: 5, sigma: 0.0004 }); // 1: inside an open window
 * ```
 */
export function touchProbability({ spot, low, high, startsIn, endsIn, sigma }: TouchQuestion): number {
  if (!(low < high) || !(endsIn > startsIn) || spot <= 0 || low <= 0) throw new RangeError("invalid touch question");
  if (endsIn <= 0) return 0;
  const t1 = Math.max(0, startsIn);
  const x0 = Math.log(spot);
  const a = Math.log(low);
  const b = Math.log(high);
  const total = sigma * Math.sqrt(endsIn);
  if (total === 0) return x0 >= a && x0 <= b ? 1 : 0;

  const kHigh = (b - x0) / total;
  const kLow = (a - x0) / total;
  if (t1 === 0) {
    if (x0 >= a && x0 <= b) return 1;
    // Already open: touch = reach the nearer edge before the end.
    return x0 > b ? 2 * normalCdf(kHigh) : 2 * normalCdf(-kLow);
  }
  const s1 = sigma * Math.sqrt(t1);
  const hHigh = (b - x0) / s1;
  const hLow = (a - x0) / s1;
  const rho = Math.sqrt(t1 / endsIn);
  const insideAtOpen = normalCdf(hHigh) - normalCdf(hLow);
  // P(X₁ > b, X₂ < b) = Φ(k) − Φ₂(h, k; ρ);   P(X₁ < a, X₂ > a) = Φ(h) − Φ₂(h, k; ρ)
  const aboveThenDown = normalCdf(kHigh) - bivariateNormalCdf(hHigh, kHigh, rho);
  const belowThenUp = normalCdf(hLow) - bivariateNormalCdf(hLow, kLow, rho);
  return Math.min(1, Math.max(0, insideAtOpen + 2 * aboveThenDown + 2 * belowThenUp));
}
