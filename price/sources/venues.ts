import type { CompositeIndex, IndexResult } from "../index/composite-index.ts";
import type { PriceSource, TickOrigin } from "./mod.ts";

/**
 * The index `createVenuesSource` samples, its clock, and what to release on `close`.
 *
 * ```ts
 * const options: VenuesSourceOptions = { index: feeds.index, release: feeds.close };
 * ```
 */
export interface VenuesSourceOptions {
  /** The composite index the venue feeds observe into. */
  index: Pick<CompositeIndex, "compute">;
  /** The time each sample computes the index at; the index's own clock by default. */
  now?: () => number;
  /** Releases what feeds the index (the venue connections), once, on `close`. */
  release?: () => Promise<void> | void;
}

/**
 * A `PriceSource` of kind `venues`, which also tells what its last sample was made of.
 *
 * ```ts
 * const quorum = source.lastResult()?.price !== undefined;
 * ```
 */
export interface VenuesSource extends PriceSource {
  readonly kind: "venues";
  /** The index as the last `sample` computed it (its `venues` and `dispersion_bps` go in the tick); undefined before the first. */
  lastResult(): IndexResult | undefined;
}

/**
 * The live price: each sample is the composite index now (docs/price-index.md).
 * Without a quorum it is undefined, so the worker skips the tick (counted as
 * `no-price`) and publishes nothing; it never makes a price up.
 *
 * ```ts
 * const index = createCompositeIndex({ venues: ["coinbase", "kraken", "bitstamp"] });
 * const source = createVenuesSource({ index, release: () => feeds.forEach((feed) => feed.close()) });
 * await source.sample(); // 100000.01, or undefined without a quorum
 * source.lastResult(); // { price: 100000.01, venues: 3, used: [...], dispersion_bps: 0.2, excluded: [] }
 * ```
 */
export function createVenuesSource({ index, now, release }: VenuesSourceOptions): VenuesSource {
  let last: IndexResult | undefined;
  let closed = false;
  return {
    kind: "venues",
    async sample() {
      // One event-loop turn first: venue frames that have already arrived are read, so the index includes them.
      await new Promise<void>((resolve) => setImmediate(resolve));
      last = index.compute(now?.());
      return last.price;
    },
    lastResult: () => last,
    describe(): TickOrigin | undefined {
      return last?.price === undefined ? undefined : { venues: last.venues, dispersion_bps: last.dispersion_bps };
    },
    async close() {
      if (closed) return;
      closed = true;
      await release?.();
    },
  };
}
