import type { Tick } from "../../common/contracts/price.ts";
import { createVolatilityEstimator } from "../pricing/volatility.ts";

/**
 * What the API knows of the market: the latest tick and the volatility
 * estimated from the ticks seen so far. Fed by the price channel (and, at
 * start, by the stored history); older ticks than the latest are ignored.
 */
export interface Market {
  observe(tick: Tick): void;
  latest(): Tick | undefined;
  /** Per-second volatility of the log-price. */
  sigma(): number;
  /** The latest tick when it is fresh at `now`; undefined when there is none, it is stale, or the price is in doubt. */
  fresh(now: number): Tick | undefined;
  /** The price is in doubt (a tick was refused): nothing is fresh until the next tick is observed. */
  doubt(): void;
}

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
