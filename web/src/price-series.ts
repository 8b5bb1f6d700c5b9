import type { Tick } from "../../common/contracts/price.ts";

/**
 * The ticks the page knows, in time order, one per `ts`: history from the API and
 * live ticks from the websocket land here in whatever order they arrive.
 *
 * ```ts
 * const series: PriceSeries = createPriceSeries();
 * ```
 */
export interface PriceSeries {
  /** Adds a tick; one already known (same `ts`) is ignored. */
  add(tick: Tick): void;
  /** Drops ticks older than `before`. */
  trimBefore(before: number): void;
  last(): Tick | undefined;
  /** The ticks with `ts` in `[from, to]`, plus the one just before `from` so a line enters the view from its edge. */
  between(from: number, to: number): Tick[];
  size(): number;
}

/**
 * An empty series, sorted on insertion (a binary search), so history that
 * arrives after live ticks slots in behind them.
 *
 * ```ts
 * const series = createPriceSeries();
 * series.add({ symbol: "BTC-USD", price: 42_000, ts: 2000 });
 * series.add({ symbol: "BTC-USD", price: 41_990, ts: 1000 });
 * series.between(0, 5000).map((tick) => tick.ts); // [1000, 2000]
 * ```
 */
export function createPriceSeries(): PriceSeries {
  const ticks: Tick[] = [];
  /** Index of the first tick with `ts >= t`. */
  const lowerBound = (t: number) => {
    let low = 0;
    let high = ticks.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (ticks[mid]!.ts < t) low = mid + 1;
      else high = mid;
    }
    return low;
  };
  return {
    add(tick) {
      const lastTick = ticks.at(-1);
      if (!lastTick || tick.ts > lastTick.ts) {
        ticks.push(tick);
        return;
      }
      const at = lowerBound(tick.ts);
      if (ticks[at]?.ts !== tick.ts) ticks.splice(at, 0, tick);
    },
    trimBefore(before) {
      const cut = lowerBound(before);
      if (cut > 0) ticks.splice(0, cut);
    },
    last: () => ticks.at(-1),
    between(from, to) {
      const start = Math.max(0, lowerBound(from) - 1);
      const end = lowerBound(to + 1);
      return ticks.slice(start, end);
    },
    size: () => ticks.length,
  };
}
