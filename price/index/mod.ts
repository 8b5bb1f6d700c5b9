/**
 * The reference index the price service publishes: one BTC/USD price from
 * several venues' quotes, by the rules of docs/price-index.md.
 *
 * ```ts
 * import { createCompositeIndex } from "./index/mod.ts";
 * const index = createCompositeIndex({ venues: ["coinbase", "kraken", "bitstamp", "bitfinex"] });
 * ```
 */
export { createCompositeIndex, DEFAULT_MAX_DEVIATION_BPS, DEFAULT_MIN_VENUES, DEFAULT_STALE_MS } from "./composite-index.ts";
export type { CompositeIndex, CompositeIndexOptions, IndexNoQuorum, IndexPrice, IndexResult, IndexVenueState } from "./composite-index.ts";
