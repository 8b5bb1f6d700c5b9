/**
 * An independent computation of the chance that the price touches a band within a window, for checking
 * api/pricing/touch-probability.ts. It shares no code with api/pricing: its own normal tail (series and continued
 * fraction, accurate to about 1e-14 relative, where the project's erfc is good to 1.2e-7) and, instead of the
 * bivariate normal, adaptive Simpson quadrature over the log-price at the window's opening.
 *
 * The model (docs/rules.md): the log-price is a driftless Brownian motion, σ per √second. With X₁ the log-price
 * when the window opens (normal, mean log spot, sd σ√t₁) and τ the window's length, a touch is X₁ inside the band,
 * or X₁ outside and the path reaching the nearer edge within τ, which by the reflection principle has chance
 * 2·Q(distance / (σ√τ)) (Q the standard normal upper tail). So
 *   P = P(a ≤ X₁ ≤ b) + ∫_b^∞ φ₁(x)·2Q((x − b)/σ√τ) dx + ∫_−∞^a φ₁(x)·2Q((a − x)/σ√τ) dx.
 */

/** e^(x²)·erfc(x) for x ≥ 0, without underflow: a series below 3, a continued fraction (Lentz) above. */
function scaledErfc(x: number): number {
  if (x < 3) {
    // erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)): positive terms, no cancellation.
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && term > sum * 1e-17; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return Math.exp(x * x) - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x)·e^(x²)·√π = 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))).
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    d = x + an * d;
    d = Math.abs(d) < tiny ? 1 / tiny : 1 / d;
    c = x + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return 1 / (f * Math.sqrt(Math.PI));
}

/**
 * Q(z) = P(Z > z) for a standard normal Z, accurate relative to its own size far into the tail.
 *
 * ```ts
 * upperTail(3); // 0.0013498980316301…
 * ```
 */
export function upperTail(z: number): number {
  if (z < 0) return 1 - upperTail(-z);
  const x = z / Math.SQRT2;
  return 0.5 * Math.exp(-x * x) * scaledErfc(x);
}

/** ∫ f over [lo, hi] by adaptive Simpson, to an absolute error of about `tolerance`. */
function integrate(f: (x: number) => number, lo: number, hi: number, tolerance: number): number {
  const step = (a: number, fa: number, m: number, fm: number, b: number, fb: number, whole: number, tol: number, depth: number): number => {
    const lm = (a + m) / 2;
    const rm = (m + b) / 2;
    const flm = f(lm);
    const frm = f(rm);
    const left = ((m - a) / 6) * (fa + 4 * flm + fm);
    const right = ((b - m) / 6) * (fm + 4 * frm + fb);
    if (depth <= 0 || Math.abs(left + right - whole) <= 15 * tol) return left + right + (left + right - whole) / 15;
    return step(a, fa, lm, flm, m, fm, left, tol / 2, depth - 1) + step(m, fm, rm, frm, b, fb, right, tol / 2, depth - 1);
  };
  // Start from many panels, so a narrow peak is never stepped over by the first estimate.
  const panels = 64;
  const width = (hi - lo) / panels;
  let total = 0;
  for (let i = 0; i < panels; i++) {
    const a = lo + i * width;
    const b = a + width;
    const m = (a + b) / 2;
    const fa = f(a);
    const fm = f(m);
    const fb = f(b);
    total += step(a, fa, m, fm, b, fb, (width / 6) * (fa + 4 * fm + fb), tolerance / panels, 40);
  }
  return total;
}

/**
 * P(touch) of the band [low, high] in a window opening `startsIn` seconds from now (more than 0) and closing
 * `endsIn` seconds from now, at `spot`, with volatility `sigma` per √second: the same question as the project's
 * `touchProbability`, answered by quadrature. Good to about 1e-12 absolute.
 *
 * ```ts
 * touchByQuadrature({ spot: 42_000, low: 42_030, high: 42_040, startsIn: 10, endsIn: 15, sigma: 0.0004 }); // ≈ 0.384
 * ```
 */
export function touchByQuadrature({ spot, low, high, startsIn, endsIn, sigma }: { spot: number; low: number; high: number; startsIn: number; endsIn: number; sigma: number }): number {
  if (!(startsIn > 0) || !(endsIn > startsIn) || !(low < high) || !(sigma > 0)) throw new RangeError("touchByQuadrature needs a window that opens later, a band and a volatility");
  const x0 = Math.log(spot);
  const a = Math.log(low);
  const b = Math.log(high);
  const sdOpen = sigma * Math.sqrt(startsIn);
  const sdWindow = sigma * Math.sqrt(endsIn - startsIn);
  const density = (x: number) => Math.exp(-0.5 * ((x - x0) / sdOpen) ** 2) / (sdOpen * Math.sqrt(2 * Math.PI));
  // Inside at the opening, as a difference of the smaller tails (no cancellation near 1).
  const inside = x0 < a ? upperTail((a - x0) / sdOpen) - upperTail((b - x0) / sdOpen) : x0 > b ? upperTail((x0 - b) / sdOpen) - upperTail((x0 - a) / sdOpen) : 1 - upperTail((b - x0) / sdOpen) - upperTail((x0 - a) / sdOpen);
  // Beyond 40 sds the density, and beyond 40 window-sds from an edge the reflection factor 2Q(40), are below
  // 1e-300: integrating only where both are not leaves nothing out, and keeps a narrow density in view.
  const [lo, hi] = [x0 - 40 * sdOpen, x0 + 40 * sdOpen];
  const over = (from: number, to: number, f: (x: number) => number) => {
    const [start, end] = [Math.max(from, lo), Math.min(to, hi)];
    return start < end ? integrate(f, start, end, 1e-13) : 0;
  };
  const fromAbove = over(b, b + 40 * sdWindow, (x) => density(x) * 2 * upperTail((x - b) / sdWindow));
  const fromBelow = over(a - 40 * sdWindow, a, (x) => density(x) * 2 * upperTail((a - x) / sdWindow));
  return inside + fromAbove + fromBelow;
}
