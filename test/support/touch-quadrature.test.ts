import { expect, setDefaultTimeout, test } from "bun:test";
import { touchByQuadrature, upperTail } from "./touch-quadrature.ts";

setDefaultTimeout(30_000);

test("the normal tail matches published values to 1e-12 relative, far into the tail", () => {
  // Q(z) from standard tables (Abramowitz & Stegun 26.2; Q(10) from the series of erfc).
  const published: [number, number][] = [
    [1, 0.15865525393145705],
    [3, 0.0013498980316301],
    [5, 2.866515718791939e-7],
    [10, 7.619853024160527e-24],
  ];
  for (const [z, q] of published) expect(Math.abs(upperTail(z) - q) / q).toBeLessThan(1e-12);
  expect(upperTail(-3) + upperTail(3)).toBeCloseTo(1, 15);
});

test("a window that opens at once is touched with the reflection principle's 2·Q(distance / σ√T)", () => {
  const sigma = 0.0004;
  for (const low of [42_020, 42_060, 42_120]) {
    const expected = 2 * upperTail(Math.log(low / 42_000) / (sigma * Math.sqrt(5)));
    const quadrature = touchByQuadrature({ spot: 42_000, low, high: low + 10, startsIn: 1e-9, endsIn: 5, sigma });
    expect(Math.abs(quadrature - expected) / expected).toBeLessThan(1e-6);
  }
});
