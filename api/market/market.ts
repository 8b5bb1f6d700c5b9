import type { Tick } from "../../common/contracts/price.ts";
import { createVolatilityEstimator } from "../pricing/volatility.ts";

/**
 * What the API knows of the market: the latest tick and the volatility
 * estimated from the ticks seen so far. Fed by the price channel (and, at
 * start, by the stored history); older ticks than the latest are ignored.
 *
 * ```ts
 * market.observe({ symbol: "BTC-USD", price: 42_000, ts: Date.now() });
 * market.fresh(Date.now())?.price; // 42_000
 * ```
 */
export interface Market {
  /** Takes `tick` as the latest when it is newer than the latest, and ends any doubt. */
  observe(tick: Tick): void;
  /** The latest tick, fresh or not (its symbol, price and time only). */
  latest(): Tick | undefined;
  /** Per-second volatility of the log-price. */
  sigma(): number;
  /** The latest tick when it is fresh at `now`; undefined when there is none, it is stale, or the price is in doubt. */
  fresh(now: number): Tick | undefined;
  /** The price is in doubt (a tick was refused): nothing is fresh until the next tick is observed. */
  doubt(): void;
}

/**
 * The market in memory; a tick older than `staleMs` is not fresh, and the
 * volatility never goes below `sigmaFloor`.
 *
 * ```ts
 * const market = createMarket({ sigmaFloor: 0.0001, staleMs: 5000 });
 * ```
 */
export function createMarket({ sigmaFloor, staleMs }: { sigmaFloor: number; staleMs: number }): Market {
  const volatility = createVolatilityEstimator({ floor: sigmaFloor });
  let latest: Tick | undefined;
  let inDoubt = false;
  return {
    observe(tick) {
      if (latest && tick.ts <= latest.ts) return;
      latest = { symbol: tick.symbol, price: tick.price, ts: tick.ts };
      inDoubt = false;
      volatility.observe(tick.price, tick.ts);
    },
    latest: () => latest,
    sigma: () => volatility.sigma(),
    fresh(now) {
      return latest && !inDoubt && now - latest.ts <= staleMs ? latest : undefined;
    },
    doubt() {
      inDoubt = true;
    },
  };
}
