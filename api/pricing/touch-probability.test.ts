import { describe, expect, test } from "bun:test";
import { touchByQuadrature } from "../../test/support/touch-quadrature.ts";
import { buildGrid, defaultGridSettings } from "../grid/build-grid.ts";
import { type TouchQuestion, touchProbability } from "./touch-probability.ts";

/** A seeded uniform generator (mulberry32) and Box–Muller normals, so the test is repeatable. */
function normals(seed: number) {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { uniform, normal: () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()) };
}

/**
 * Monte Carlo of the same model: jump exactly to the window's opening (one
 * normal step), then walk the window in small steps, counting a touch when a
 * point lies in the band or the Brownian bridge between two points crosses
 * the nearer edge (probability exp(−2·d₁·d₂ / (σ²·Δt))). No discretisation bias.
 */
function simulateTouch(q: TouchQuestion, paths: number, seed: number): number {
  const { uniform, normal } = normals(seed);
  const a = Math.log(q.low);
  const b = Math.log(q.high);
  const steps = 50;
  const dt = (q.endsIn - q.startsIn) / steps;
  const stepSd = q.sigma * Math.sqrt(dt);
  let touches = 0;
  for (let p = 0; p < paths; p++) {
    let x = Math.log(q.spot) + q.sigma * Math.sqrt(q.startsIn) * normal();
    let touched = x >= a && x <= b;
    for (let i = 0; i < steps && !touched; i++) {
      const next = x + stepSd * normal();
      if (next >= a && next <= b) touched = true;
      else if ((x > b && next < a) || (x < a && next > b)) touched = true;
      else {
        const edge = x > b ? b : a;
        const crossing = Math.exp((-2 * (x - edge) * (next - edge)) / (stepSd * stepSd));
        touched = uniform() < crossing;
      }
      x = next;
    }
    if (touched) touches++;
  }
  return touches / paths;
}

const sigma = 0.0004; // ≈ $17 per second at $42,000
const table: TouchQuestion[] = [
  { spot: 42000, low: 42000, high: 42010, startsIn: 5, endsIn: 10, sigma },
  { spot: 42003, low: 42000, high: 42010, startsIn: 2, endsIn: 7, sigma },
  { spot: 42000, low: 42050, high: 42060, startsIn: 5, endsIn: 10, sigma },
  { spot: 42000, low: 41900, high: 41910, startsIn: 10, endsIn: 15, sigma },
  { spot: 42000, low: 42100, high: 42110, startsIn: 25, endsIn: 30, sigma },
  { spot: 42000, low: 42150, high: 42160, startsIn: 2, endsIn: 7, sigma },
  { spot: 42000, low: 42020, high: 42030, startsIn: 0, endsIn: 5, sigma },
  { spot: 42000, low: 41000, high: 41010, startsIn: 30, endsIn: 60, sigma: 0.002 },
];

describe("touchProbability", () => {
  test("agrees with a Monte Carlo of the same model within 4 standard errors (and 0.01 absolute)", () => {
    const paths = 40_000;
    table.forEach((q, i) => {
      const exact = touchProbability(q);
      const simulated = simulateTouch(q, paths, 1000 + i);
      const standardError = Math.sqrt((exact * (1 - exact)) / paths);
      const tolerance = Math.min(0.01, Math.max(4 * standardError, 0.002));
      expect({ cell: i, gap: Math.abs(exact - simulated) <= tolerance }).toEqual({ cell: i, gap: true });
    });
  });

  test("agrees with an independent quadrature to 1e-5 relative on grid cells from P ≈ 0.001 to 0.5, many in 0.003–0.02 where MIN_RTP decides, in calm, normal and lively markets", () => {
    // The quadrature (test/support/touch-quadrature.ts) shares no code with api/pricing; the two agree to about
    // 2.4e-7 relative, so 1e-5 leaves room for float noise and still catches a 0.01 % error in a far cell's price.
    const now = 1_700_000_001_234;
    const spot = 4_200_037;
    // Each market's grid reaches far enough that its outer rows fall below P = 0.001.
    const markets = [
      { sigma: 0.0001, rowsEachSide: 12 },
      { sigma: 0.0004, rowsEachSide: 40 },
      { sigma: 0.001, rowsEachSide: 100 },
    ];
    for (const { sigma, rowsEachSide } of markets) {
      const checked = { small: 0, decisive: 0, large: 0 };
      const worse: unknown[] = [];
      for (const cell of buildGrid(now, spot, sigma, { ...defaultGridSettings, rowsEachSide })) {
        const question = { spot, low: cell.lowCents, high: cell.highCents, startsIn: (cell.t_start - now) / 1000, endsIn: (cell.t_end - now) / 1000, sigma };
        const independent = touchByQuadrature(question);
        if (independent < 0.001 || independent > 0.5) continue;
        checked[independent < 0.003 ? "small" : independent <= 0.02 ? "decisive" : "large"]++;
        const relative = Math.abs(touchProbability(question) - independent) / independent;
        if (!(relative <= 1e-5)) worse.push({ ...question, independent, relative });
      }
      expect(worse).toEqual([]);
      // The range the check is about is really covered in every market.
      expect(checked.small).toBeGreaterThanOrEqual(10);
      expect(checked.decisive).toBeGreaterThanOrEqual(20);
      expect(checked.large).toBeGreaterThanOrEqual(20);
    }
  });

  test("is 1 inside an open window and falls with distance", () => {
    expect(touchProbability({ spot: 42005, low: 42000, high: 42010, startsIn: 0, endsIn: 5, sigma })).toBe(1);
    const near = touchProbability({ spot: 42000, low: 42020, high: 42030, startsIn: 5, endsIn: 10, sigma });
    const far = touchProbability({ spot: 42000, low: 42080, high: 42090, startsIn: 5, endsIn: 10, sigma });
    expect(near).toBeGreaterThan(far);
    expect(far).toBeGreaterThan(0);
  });

  test("a band is more likely touched in a longer window and with higher volatility", () => {
    const base = { spot: 42000, low: 42050, high: 42060, startsIn: 5, endsIn: 10, sigma };
    expect(touchProbability({ ...base, endsIn: 20 })).toBeGreaterThan(touchProbability(base));
    expect(touchProbability({ ...base, sigma: sigma * 2 })).toBeGreaterThan(touchProbability(base));
  });

  test("is symmetric in log-price around the spot", () => {
    const up = touchProbability({ spot: 100, low: 100 * Math.exp(0.01), high: 100 * Math.exp(0.012), startsIn: 3, endsIn: 8, sigma: 0.003 });
    const down = touchProbability({ spot: 100, low: 100 * Math.exp(-0.012), high: 100 * Math.exp(-0.01), startsIn: 3, endsIn: 8, sigma: 0.003 });
    expect(up).toBeCloseTo(down, 9);
  });

  test("refuses impossible questions", () => {
    expect(() => touchProbability({ spot: 1, low: 2, high: 1, startsIn: 0, endsIn: 1, sigma })).toThrow(RangeError);
    expect(() => touchProbability({ spot: 1, low: 1, high: 2, startsIn: 5, endsIn: 1, sigma })).toThrow(RangeError);
  });
});
