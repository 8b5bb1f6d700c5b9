import type { PriceSource } from "./mod.ts";

/**
 * Where the mock walk starts, how far each step goes, and its seed.
 *
 * ```ts
 * const options: MockSourceOptions = { start: 42_000, volatility: 0.0005, seed: 7 };
 * ```
 */
export interface MockSourceOptions {
  /** The first price, in dollars. */
  start: number;
  /** Standard deviation of each step's relative change (0.0005 is 0.05 % per tick). */
  volatility: number;
  /** The same seed gives the same walk. */
  seed: number;
}

/** Below one cent the walk is shown as one cent: a price is never zero or negative. */
const MIN_PRICE = 0.01;

/**
 * A geometric random walk: each sample multiplies the price by `exp(volatility * z)`
 * with `z` standard normal, so it never reaches zero, and rounds it to cents for
 * display while walking on from the unrounded value (a tiny volatility still moves).
 *
 * ```ts
 * const source = createMockSource({ start: 42000, volatility: 0.0005, seed: 7 });
 * await source.sample(); // 42003.17, say
 * ```
 */
export function createMockSource({ start, volatility, seed }: MockSourceOptions): PriceSource {
  if (!(Number.isFinite(start) && start > 0)) throw new RangeError(`mock start price must be > 0, got ${start}`);
  if (!(Number.isFinite(volatility) && volatility >= 0)) throw new RangeError(`mock volatility must be >= 0, got ${volatility}`);
  const normal = gaussian(mulberry32(seed));
  let price = start;
  return {
    kind: "mock",
    async sample() {
      price *= Math.exp(volatility * normal());
      return Math.max(MIN_PRICE, Math.round(price * 100) / 100);
    },
    async close() {},
  } satisfies PriceSource;
}

/** A small seedable PRNG (uniform in [0, 1)); Math.random cannot be seeded. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box-Muller. */
function gaussian(uniform: () => number): () => number {
  return () => {
    const u = 1 - uniform(); // (0, 1]: log(0) would be -Infinity
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}
