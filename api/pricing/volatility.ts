/**
 * Estimates `sigma`, the standard deviation of the log-price change over one
 * second, from ticks: an exponentially weighted average of squared returns
 * scaled to one second, forgetting with time constant `timeConstantS`, and
 * never below `floor` (a quiet feed must not make far cells look impossible,
 * which would price them at the cap).
 *
 * ```ts
 * const volatility: VolatilityEstimator = createVolatilityEstimator({ floor: 0.0001 });
 * volatility.observe(42_000.5, 1_700_000_000_000);
 * ```
 */
export interface VolatilityEstimator {
  /** Feeds one tick; ticks not newer than the last one are ignored. */
  observe(price: number, ts: number): void;
  /** The current estimate, at least the floor. */
  sigma(): number;
  /** How many returns the estimate has seen. */
  readonly samples: number;
}

/**
 * The estimator's floor (SIGMA_FLOOR) and, optionally, how fast it forgets,
 * the longest gap it counts as one return, and where it starts.
 *
 * ```ts
 * const options: VolatilityOptions = { floor: 0.0001, timeConstantS: 60 };
 * ```
 */
export interface VolatilityOptions {
  floor: number;
  /** Seconds over which old returns fade (to 1/e). */
  timeConstantS?: number;
  /** A gap longer than this is not one return: the estimate waits for fresh ticks. */
  maxGapS?: number;
  /** The estimate before any return is seen. */
  initial?: number;
}

/**
 * A volatility estimator (see `VolatilityEstimator`), at `initial` (the floor
 * unless given) until returns come in.
 *
 * ```ts
 * const volatility = createVolatilityEstimator({ floor: 0.0001 });
 * volatility.observe(42_000, 1_700_000_000_000);
 * volatility.observe(42_004.2, 1_700_000_000_500);
 * volatility.sigma(); // at least 0.0001
 * ```
 */
export function createVolatilityEstimator({ floor, timeConstantS = 60, maxGapS = 30, initial = floor }: VolatilityOptions): VolatilityEstimator {
  let variance = initial * initial;
  let lastPrice = 0;
  let lastTs = -1;
  let samples = 0;
  return {
    observe(price, ts) {
      if (!(price > 0) || ts <= lastTs) return;
      if (lastTs >= 0) {
        const dt = (ts - lastTs) / 1000;
        if (dt <= maxGapS) {
          const r = Math.log(price / lastPrice);
          const weight = 1 - Math.exp(-dt / timeConstantS);
          variance += weight * ((r * r) / dt - variance);
          samples++;
        }
      }
      lastPrice = price;
      lastTs = ts;
    },
    sigma() {
      return Math.max(floor, Math.sqrt(variance));
    },
    get samples() {
      return samples;
    },
  };
}
