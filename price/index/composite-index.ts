import { midOf, type VenueName, type VenueQuote } from "../venues/protocol.ts";

/**
 * A venue's latest quote older than this, ms, is stale: not used, not counted
 * (`PRICE_VENUE_STALE_MS`'s default).
 *
 * ```ts
 * createCompositeIndex({ venues, staleMs: DEFAULT_STALE_MS }); // the same as leaving it out
 * ```
 */
export const DEFAULT_STALE_MS = 2000;
/**
 * A venue more than 50 bps (0.5 %) from the median of the fresh venues is left
 * out as an outlier (`PRICE_MAX_DEVIATION_BPS`'s default).
 *
 * ```ts
 * createCompositeIndex({ venues, maxDeviationBps: DEFAULT_MAX_DEVIATION_BPS * 2 }); // a looser bound
 * ```
 */
export const DEFAULT_MAX_DEVIATION_BPS = 50;
/**
 * No price from fewer than two usable venues (`PRICE_MIN_VENUES`'s default):
 * a lone venue is its own median, so nothing could show it wrong.
 *
 * ```ts
 * createCompositeIndex({ venues: ["coinbase", "kraken", "bitstamp"], minVenues: DEFAULT_MIN_VENUES });
 * ```
 */
export const DEFAULT_MIN_VENUES = 2;
/** Basis points in one (a relative difference × this is in bps). */
const BPS = 10_000;

/**
 * How `createCompositeIndex` makes its price; the limits default to
 * `DEFAULT_STALE_MS`, `DEFAULT_MAX_DEVIATION_BPS` and `DEFAULT_MIN_VENUES`.
 *
 * ```ts
 * const options: CompositeIndexOptions = { venues: ["coinbase", "kraken", "bitstamp"], minVenues: 2 };
 * ```
 */
export interface CompositeIndexOptions {
  /** The venues indexed (`PRICE_VENUES`); `used` and `excluded` list them in this order. */
  venues: readonly VenueName[];
  /** A quote received longer ago than this (ms) is stale (`PRICE_VENUE_STALE_MS`, default 2000). */
  staleMs?: number;
  /** A fresh venue further than this from the median of all fresh venues is excluded (`PRICE_MAX_DEVIATION_BPS`, default 50). */
  maxDeviationBps?: number;
  /** The quorum: fewer usable venues than this, no price (`PRICE_MIN_VENUES`, default 2). */
  minVenues?: number;
  /** The time `compute` and `states` use when not given one; `Date.now` by default. */
  now?: () => number;
}

/**
 * The index at one instant, made from `venues` venues.
 *
 * ```ts
 * const price: IndexPrice = { price: 87_415.25, venues: 3, used: ["coinbase", "kraken", "bitstamp"], dispersion_bps: 1.37, excluded: [] };
 * ```
 */
export interface IndexPrice {
  /** The median of the usable venues' mids, in dollars, rounded to cents. */
  price: number;
  /** How many venues made it (`used.length`). */
  venues: number;
  used: VenueName[];
  /** (max mid − min mid) × 10,000 / median among the used venues, rounded to 0.01 bps. */
  dispersion_bps: number;
  /** Fresh venues left out as outliers. */
  excluded: VenueName[];
}

/**
 * Fewer usable venues than the quorum: no price, so no tick.
 *
 * ```ts
 * const none: IndexNoQuorum = { price: undefined, reason: "no quorum", fresh: 1, usable: 1 };
 * ```
 */
export interface IndexNoQuorum {
  price: undefined;
  reason: "no quorum";
  /** Venues with a fresh quote. */
  fresh: number;
  /** Fresh venues that are not excluded. */
  usable: number;
}

/**
 * What one `compute` gives: a price, or why there is none; tell them apart by `price`.
 *
 * ```ts
 * const result: IndexResult = index.compute();
 * if (result.price === undefined) log.warn({ fresh: result.fresh }, "no quorum");
 * ```
 */
export type IndexResult = IndexPrice | IndexNoQuorum;

/**
 * A venue as the index sees it (the connection's own state is in `venues/connection.ts`):
 * quoting, quoting too long ago, left out as an outlier, or never heard.
 *
 * ```ts
 * index.states(); // { coinbase: "fresh", kraken: "none", bitstamp: "stale" }
 * ```
 */
export type IndexVenueState = "fresh" | "stale" | "excluded" | "none";

/**
 * A composite index (`createCompositeIndex`): feed it quotes, compute it once per interval.
 *
 * ```ts
 * index.observe({ venue: "kraken", last: 87_415.2, receivedAt: Date.now() }); // true
 * const result = index.compute();
 * ```
 */
export interface CompositeIndex {
  /** Keeps the quote's mid as its venue's latest; false when it was ignored (no price, an older quote, a venue not indexed). */
  observe(quote: VenueQuote): boolean;
  /** The index at `at` (ms since the epoch); updates the venues' exclusions, so call it once per interval. */
  compute(at?: number): IndexResult;
  /** Each indexed venue's state at `at`, as of the last `compute`; changes nothing. */
  states(at?: number): Partial<Record<VenueName, IndexVenueState>>;
}

/** A venue's latest observation of one kind: its mid and when we received it. */
interface Seen {
  mid: number;
  receivedAt: number;
}

interface VenueSlot {
  venue: VenueName;
  /** The latest sane top of book's mid. */
  book?: Seen;
  /** The latest quote's mid when it had no sane book (a trade). */
  trade?: Seen;
  excluded: boolean;
}

/**
 * The reference index of docs/price-index.md: at each interval, the median of
 * the mids of the venues that are fresh and not excluded, rounded to cents; a
 * venue more than `maxDeviationBps` from the median of all fresh venues is
 * excluded until it is back within half of that; below `minVenues` usable
 * venues there is no price. Pure: no timers, no I/O; O(venues) per compute.
 *
 * ```ts
 * const index = createCompositeIndex({ venues: ["coinbase", "kraken", "bitstamp"] });
 * index.observe({ venue: "coinbase", bid: 100000, ask: 100000.02, receivedAt: Date.now() });
 * index.observe({ venue: "kraken", last: 100001, receivedAt: Date.now() });
 * index.compute(); // { price: 100000.51, venues: 2, used: ["coinbase", "kraken"], dispersion_bps: 0.1, excluded: [] }
 * ```
 */
export function createCompositeIndex(options: CompositeIndexOptions): CompositeIndex {
  const { venues, staleMs = DEFAULT_STALE_MS, maxDeviationBps = DEFAULT_MAX_DEVIATION_BPS, minVenues = DEFAULT_MIN_VENUES, now = Date.now } = options;
  if (venues.length === 0) throw new RangeError("the index needs at least one venue");
  if (new Set(venues).size !== venues.length) throw new RangeError(`venues listed twice: ${venues.join(", ")}`);
  if (!(Number.isFinite(staleMs) && staleMs > 0)) throw new RangeError(`staleMs must be > 0, got ${staleMs}`);
  if (!(Number.isFinite(maxDeviationBps) && maxDeviationBps > 0)) throw new RangeError(`maxDeviationBps must be > 0, got ${maxDeviationBps}`);
  if (!(Number.isInteger(minVenues) && minVenues >= 1 && minVenues <= venues.length)) {
    throw new RangeError(`minVenues must be an integer from 1 to ${venues.length} (the venues), got ${minVenues}`);
  }
  const readmitBps = maxDeviationBps / 2;
  const slots = new Map<VenueName, VenueSlot>(venues.map((venue) => [venue, { venue, excluded: false }]));
  const freshAt = (seen: Seen | undefined, at: number) => seen !== undefined && at - seen.receivedAt <= staleMs;
  /** The venue's price at `at`: its top of book while fresh, else its last trade while fresh, else the newer of the two (stale). */
  const current = (slot: VenueSlot, at: number): Seen | undefined => {
    if (freshAt(slot.book, at)) return slot.book;
    if (freshAt(slot.trade, at)) return slot.trade;
    if (!slot.book || !slot.trade) return slot.book ?? slot.trade;
    return slot.book.receivedAt >= slot.trade.receivedAt ? slot.book : slot.trade;
  };
  const isFresh = (slot: VenueSlot, at: number) => freshAt(current(slot, at), at);

  return {
    observe(quote) {
      const slot = slots.get(quote.venue);
      const mid = midOf(quote);
      if (!slot || mid === undefined || !Number.isFinite(mid) || !Number.isFinite(quote.receivedAt)) return false;
      // A venue that sends its book and its trades: a trade does not replace a fresh book's mid.
      const kind = hasSaneBook(quote) ? "book" : "trade";
      const kept = slot[kind];
      if (kept !== undefined && quote.receivedAt < kept.receivedAt) return false;
      slot[kind] = { mid, receivedAt: quote.receivedAt };
      return true;
    },

    compute(at = now()) {
      const fresh: { slot: VenueSlot; mid: number }[] = [];
      for (const slot of slots.values()) {
        const seen = current(slot, at);
        if (seen && freshAt(seen, at)) fresh.push({ slot, mid: seen.mid });
      }
      if (fresh.length > 0) {
        const ref = median(fresh.map((venue) => venue.mid));
        for (const { slot, mid } of fresh) {
          const deviation = (Math.abs(mid - ref) * BPS) / ref;
          if (!slot.excluded && deviation > maxDeviationBps) slot.excluded = true;
          else if (slot.excluded && deviation <= readmitBps) slot.excluded = false;
        }
      }
      const used = fresh.filter(({ slot }) => !slot.excluded);
      if (used.length < minVenues) return { price: undefined, reason: "no quorum", fresh: fresh.length, usable: used.length };
      const mids = used.map((venue) => venue.mid);
      const middle = median(mids);
      return {
        price: roundTo(middle, 2),
        venues: used.length,
        used: used.map(({ slot }) => slot.venue),
        dispersion_bps: roundTo(((Math.max(...mids) - Math.min(...mids)) * BPS) / middle, 2),
        excluded: fresh.filter(({ slot }) => slot.excluded).map(({ slot }) => slot.venue),
      };
    },

    states(at = now()) {
      const states: Partial<Record<VenueName, IndexVenueState>> = {};
      for (const slot of slots.values()) {
        states[slot.venue] = current(slot, at) === undefined ? "none" : !isFresh(slot, at) ? "stale" : slot.excluded ? "excluded" : "fresh";
      }
      return states;
    },
  };
}

/** The median of a non-empty list; of an even count, the mean of the two middle values. */
function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const half = sorted.length >> 1;
  const upper = sorted[half] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[half - 1] as number) + upper) / 2;
}

/**
 * Rounds half up to `decimals` places. The binary noise is removed first (to
 * 1e-6 of the last place): the median of 61033.27 and 61034.00 is computed as
 * 61033.634999999995 and must still round up, to 61033.64.
 */
function roundTo(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(Number((value * scale).toFixed(6))) / scale;
}

/** Whether a quote carries a usable top of book (what `midOf` then takes the mid of). */
function hasSaneBook(quote: VenueQuote): boolean {
  return quote.bid !== undefined && quote.ask !== undefined && quote.bid > 0 && quote.ask >= quote.bid;
}
