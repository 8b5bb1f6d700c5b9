import { describe, expect, test } from "bun:test";
import type { VenueName, VenueQuote } from "../venues/protocol.ts";
import { type CompositeIndexOptions, createCompositeIndex, type IndexPrice, type IndexResult } from "./composite-index.ts";

const all: VenueName[] = ["coinbase", "kraken", "bitstamp", "bitfinex"];
const T = 1_700_000_000_000;

function indexOf(options: Partial<CompositeIndexOptions> = {}) {
  return createCompositeIndex({ venues: all, now: () => T, ...options });
}

/** A trade-only quote at `last`, received `ageMs` before T. */
function last(venue: VenueName, price: number, ageMs = 0): VenueQuote {
  return { venue, last: price, receivedAt: T - ageMs };
}

function priced(result: IndexResult): IndexPrice {
  if (result.price === undefined) throw new Error(`expected a price, got ${JSON.stringify(result)}`);
  return result;
}

describe("composite index: the median", () => {
  test("of one venue is its mid (with a quorum of one)", () => {
    const index = indexOf({ minVenues: 1 });
    index.observe(last("kraken", 100_000.5));
    expect(index.compute(T)).toEqual({ price: 100_000.5, venues: 1, used: ["kraken"], dispersion_bps: 0, excluded: [] });
  });

  test("of two venues is their mean", () => {
    const index = indexOf();
    index.observe(last("coinbase", 100_000));
    index.observe(last("kraken", 100_010));
    expect(priced(index.compute(T)).price).toBe(100_005);
  });

  test("of three venues is the middle one, whatever the order they came in", () => {
    const index = indexOf();
    index.observe(last("bitstamp", 100_030));
    index.observe(last("coinbase", 100_010));
    index.observe(last("kraken", 100_020));
    const result = priced(index.compute(T));
    expect(result.price).toBe(100_020);
    expect(result.used).toEqual(["coinbase", "kraken", "bitstamp"]);
    expect(result.venues).toBe(3);
  });

  test("of four venues is the mean of the two middle ones", () => {
    const index = indexOf();
    for (const [venue, price] of [["coinbase", 100_040], ["kraken", 100_000], ["bitstamp", 100_030], ["bitfinex", 100_010]] as const) {
      index.observe(last(venue, price));
    }
    expect(priced(index.compute(T)).price).toBe(100_020);
  });

  test("uses each venue's latest quote only; an older one arriving late is ignored", () => {
    const index = indexOf();
    expect(index.observe(last("coinbase", 100_000, 500))).toBe(true);
    expect(index.observe(last("coinbase", 100_020, 100))).toBe(true);
    expect(index.observe(last("coinbase", 99_000, 300))).toBe(false);
    index.observe(last("kraken", 100_020));
    expect(priced(index.compute(T)).price).toBe(100_020);
  });

  test("a quote of a venue not indexed, or with no price, is ignored", () => {
    const index = indexOf({ venues: ["coinbase", "kraken"] });
    expect(index.observe(last("bitstamp", 100_000))).toBe(false);
    expect(index.observe({ venue: "coinbase", receivedAt: T })).toBe(false);
    expect(index.observe({ venue: "coinbase", last: Number.POSITIVE_INFINITY, receivedAt: T })).toBe(false);
    expect(index.states(T)).toEqual({ coinbase: "none", kraken: "none" });
  });
});

describe("composite index: a venue's mid", () => {
  test("is (bid + ask) / 2 when the quote has the book's top", () => {
    const index = indexOf({ minVenues: 1 });
    index.observe({ venue: "coinbase", bid: 100_000, ask: 100_002, last: 90_000, receivedAt: T });
    expect(priced(index.compute(T)).price).toBe(100_001);
  });

  test("is the last trade when the quote has no bid/ask", () => {
    const index = indexOf({ minVenues: 1 });
    index.observe({ venue: "bitstamp", last: 100_123.45, receivedAt: T });
    expect(priced(index.compute(T)).price).toBe(100_123.45);
  });

  test("falls back to the last trade when the book is crossed (bid > ask)", () => {
    const index = indexOf({ minVenues: 1 });
    index.observe({ venue: "kraken", bid: 100_010, ask: 100_000, last: 100_004, receivedAt: T });
    expect(priced(index.compute(T)).price).toBe(100_004);
  });
});

describe("composite index: freshness", () => {
  test("a stale venue is ignored: not used, not counted", () => {
    const index = indexOf();
    index.observe(last("coinbase", 100_000));
    index.observe(last("kraken", 100_010));
    index.observe(last("bitstamp", 90_000, 2001)); // far off, but stale: neither used nor excluded
    const result = priced(index.compute(T));
    expect(result).toEqual({ price: 100_005, venues: 2, used: ["coinbase", "kraken"], dispersion_bps: 1, excluded: [] });
    expect(index.states(T)).toEqual({ coinbase: "fresh", kraken: "fresh", bitstamp: "stale", bitfinex: "none" });
  });

  test("a quote exactly staleMs old is fresh, one ms older is stale", () => {
    const index = indexOf({ staleMs: 2000 });
    index.observe(last("coinbase", 100_000, 0));
    index.observe(last("kraken", 100_010, 2000));
    expect(priced(index.compute(T)).venues).toBe(2);
    expect(index.compute(T + 1)).toEqual({ price: undefined, reason: "no quorum", fresh: 1, usable: 1 });
  });

  test("a venue comes back with its next quote", () => {
    const index = indexOf();
    index.observe(last("coinbase", 100_000, 5000));
    index.observe(last("kraken", 100_010));
    expect(index.compute(T).price).toBeUndefined();
    index.observe(last("coinbase", 100_000));
    expect(priced(index.compute(T)).venues).toBe(2);
  });
});

describe("composite index: outliers", () => {
  /** Three venues at 100,000 and bitfinex at `mid`: the median of all four is 100,000, so bitfinex deviates by (mid − 100,000) / 10 bps. */
  function withOutlier(index = indexOf()) {
    return (mid: number, at = T) => {
      for (const venue of ["coinbase", "kraken", "bitstamp"] as const) index.observe({ venue, last: 100_000, receivedAt: at });
      index.observe({ venue: "bitfinex", last: mid, receivedAt: at });
      return index.compute(at);
    };
  }

  test("a venue more than 50 bps from the median of all fresh venues is excluded", () => {
    const index = indexOf();
    const result = priced(withOutlier(index)(100_501)); // 50.1 bps
    expect(result).toEqual({ price: 100_000, venues: 3, used: ["coinbase", "kraken", "bitstamp"], dispersion_bps: 0, excluded: ["bitfinex"] });
    expect(index.states(T)).toEqual({ coinbase: "fresh", kraken: "fresh", bitstamp: "fresh", bitfinex: "excluded" });
  });

  test("below the median too", () => {
    expect(priced(withOutlier()(99_499)).excluded).toEqual(["bitfinex"]); // 50.1 bps
  });

  test("exactly 50 bps away is not excluded", () => {
    const result = priced(withOutlier()(100_500));
    expect(result.excluded).toEqual([]);
    expect(result.venues).toBe(4);
    expect(result.dispersion_bps).toBe(50);
  });

  test("an excluded venue is readmitted only within half the limit (25 bps): hysteresis", () => {
    const step = withOutlier();
    expect(priced(step(100_600)).excluded).toEqual(["bitfinex"]); // 60 bps: out
    expect(priced(step(100_400)).excluded).toEqual(["bitfinex"]); // 40 bps: within the limit, still out
    expect(priced(step(100_251)).excluded).toEqual(["bitfinex"]); // 25.1 bps: still out
    const back = priced(step(100_250)); // exactly 25 bps: back in
    expect(back.excluded).toEqual([]);
    expect(back.venues).toBe(4);
    expect(priced(step(100_400)).excluded).toEqual([]); // 40 bps once in: stays in
  });

  test("the limits scale with maxDeviationBps", () => {
    const step = withOutlier(indexOf({ maxDeviationBps: 10 }));
    expect(priced(step(100_100)).excluded).toEqual([]); // 10 bps
    expect(priced(step(100_101)).excluded).toEqual(["bitfinex"]);
    expect(priced(step(100_051)).excluded).toEqual(["bitfinex"]); // 5.1 bps
    expect(priced(step(100_050)).excluded).toEqual([]); // 5 bps
  });

  test("a stale excluded venue keeps its exclusion and is judged again when fresh", () => {
    const index = indexOf();
    const step = withOutlier(index);
    expect(priced(step(100_600)).excluded).toEqual(["bitfinex"]);
    // bitfinex goes quiet: stale, not listed as excluded, not judged
    for (const venue of ["coinbase", "kraken", "bitstamp"] as const) index.observe({ venue, last: 100_000, receivedAt: T + 5000 });
    expect(priced(index.compute(T + 5000))).toMatchObject({ venues: 3, excluded: [] });
    expect(index.states(T + 5000).bitfinex).toBe("stale");
    // back at 40 bps: still excluded (a reset would have let it in)
    expect(priced(step(100_400, T + 6000)).excluded).toEqual(["bitfinex"]);
    // back at 20 bps: readmitted in the same interval
    expect(priced(step(100_200, T + 7000))).toMatchObject({ venues: 4, excluded: [] });
  });

  test("exclusion changes only when the index is computed, never when states are read", () => {
    const index = indexOf();
    for (const venue of ["coinbase", "kraken", "bitstamp"] as const) index.observe(last(venue, 100_000));
    index.observe(last("bitfinex", 100_600));
    expect(index.states(T).bitfinex).toBe("fresh"); // not computed yet
    expect(index.states(T).bitfinex).toBe("fresh");
    expect(priced(index.compute(T)).excluded).toEqual(["bitfinex"]);
    expect(index.states(T).bitfinex).toBe("excluded");
  });

  test("computing twice at the same instant gives the same result", () => {
    const step = withOutlier();
    const first = step(100_400);
    expect(step(100_400)).toEqual(first);
  });

  test("two fresh venues that disagree by more than twice the limit are both excluded: no price", () => {
    const index = indexOf();
    index.observe(last("coinbase", 100_000));
    index.observe(last("kraken", 101_100)); // each ~55 bps from their mean
    expect(index.compute(T)).toEqual({ price: undefined, reason: "no quorum", fresh: 2, usable: 0 });
    expect(index.states(T)).toMatchObject({ coinbase: "excluded", kraken: "excluded" });
  });
});

describe("composite index: quorum", () => {
  test("2 of 4 venues fresh make a price; 1 does not", () => {
    const index = indexOf();
    index.observe(last("coinbase", 100_000));
    index.observe(last("kraken", 100_010));
    index.observe(last("bitstamp", 100_020, 3000));
    index.observe(last("bitfinex", 100_030, 3000));
    expect(priced(index.compute(T))).toMatchObject({ price: 100_005, venues: 2, used: ["coinbase", "kraken"] });
    index.observe(last("kraken", 100_010, -1000)); // kraken quoted again; coinbase goes stale a second on
    expect(index.compute(T + 1000)).toEqual({ price: 100_005, venues: 2, used: ["coinbase", "kraken"], dispersion_bps: 1, excluded: [] });
    expect(index.compute(T + 2001)).toEqual({ price: undefined, reason: "no quorum", fresh: 1, usable: 1 });
  });

  test("an excluded venue does not count for the quorum", () => {
    const index = indexOf({ minVenues: 3 });
    for (const venue of ["coinbase", "kraken"] as const) index.observe(last(venue, 100_000));
    index.observe(last("bitstamp", 100_000));
    index.observe(last("bitfinex", 101_000)); // 100 bps: out
    expect(priced(index.compute(T)).venues).toBe(3);
    // three fresh venues, one of them excluded: two usable, short of three
    const three = indexOf({ minVenues: 3, venues: ["coinbase", "kraken", "bitfinex"] });
    three.observe(last("coinbase", 100_000));
    three.observe(last("kraken", 100_000));
    three.observe(last("bitfinex", 101_000));
    expect(three.compute(T)).toEqual({ price: undefined, reason: "no quorum", fresh: 3, usable: 2 });
  });

  test("no quote at all: no price", () => {
    expect(indexOf().compute(T)).toEqual({ price: undefined, reason: "no quorum", fresh: 0, usable: 0 });
    expect(indexOf().states(T)).toEqual({ coinbase: "none", kraken: "none", bitstamp: "none", bitfinex: "none" });
  });
});

describe("composite index: figures", () => {
  test("dispersion is (max − min) / median of the used venues, in bps, to 0.01", () => {
    const index = indexOf();
    index.observe(last("coinbase", 100_000));
    index.observe(last("kraken", 100_010));
    index.observe(last("bitstamp", 100_030));
    expect(priced(index.compute(T)).dispersion_bps).toBe(3); // 30 / 100,010 → 2.9997 bps
    index.observe(last("bitfinex", 100_700)); // excluded: not in the dispersion
    const result = priced(index.compute(T));
    expect(result.excluded).toEqual(["bitfinex"]);
    expect(result.dispersion_bps).toBe(3);
  });

  test("the price is rounded to cents, half a cent up", () => {
    const index = indexOf();
    index.observe({ venue: "coinbase", bid: 100_000.0, ask: 100_000.01, receivedAt: T }); // mid 100000.005
    index.observe(last("kraken", 100_000.005));
    expect(priced(index.compute(T)).price).toBe(100_000.01);
    index.observe(last("kraken", 100_000.0));
    expect(priced(index.compute(T)).price).toBe(100_000); // (100000.005 + 100000) / 2 = 100000.0025
    index.observe(last("kraken", 100_000.02));
    expect(priced(index.compute(T)).price).toBe(100_000.01); // 100000.0125
    index.observe(last("kraken", 100_000.004));
    expect(priced(index.compute(T)).price).toBe(100_000); // 100000.0045
  });

  test("a half cent rounds up even when the arithmetic lands just below it", () => {
    for (const [a, b, price] of [[61_033.27, 61_034.0, 61_033.64], [144_493.22, 144_493.49, 144_493.36], [34_080.06, 34_080.99, 34_080.53]] as const) {
      // (61033.27 + 61034) / 2 is 61033.634999999995 in binary: a plain Math.round gives a cent less
      expect(Math.round(((a + b) / 2) * 100)).toBe(Math.round(price * 100) - 1);
      const index = indexOf();
      index.observe(last("coinbase", a));
      index.observe(last("kraken", b));
      expect(priced(index.compute(T)).price).toBe(price);
    }
  });

  test("a venue's fresh top of book is its price; a trade after it does not replace it, and counts once the book is stale", () => {
    const index = indexOf();
    index.observe({ venue: "coinbase", bid: 100_000, ask: 100_002, receivedAt: T });
    index.observe({ venue: "coinbase", last: 100_000, receivedAt: T + 10 });
    index.observe({ venue: "kraken", bid: 100_001, ask: 100_001, receivedAt: T });
    expect(priced(index.compute(T + 10)).price).toBe(100_001);
    // The book is older than staleMs, the trade is not: the trade is the price.
    index.observe({ venue: "coinbase", last: 100_000.2, receivedAt: T + 2500 });
    index.observe({ venue: "kraken", bid: 100_001, ask: 100_001, receivedAt: T + 2500 });
    expect(priced(index.compute(T + 2500)).price).toBe(100_000.6);
  });

  test("the worked example of docs/price-index.md", () => {
    const index = indexOf();
    const at = (ms: number) => T + ms;
    const quotes = (ms: number, bitfinex: VenueQuote) => {
      index.observe({ venue: "coinbase", bid: 100_000.0, ask: 100_000.02, receivedAt: at(ms) });
      index.observe({ venue: "kraken", bid: 99_999.9, ask: 100_000.1, receivedAt: at(ms) });
      index.observe({ venue: "bitstamp", last: 100_002.0, receivedAt: at(ms) });
      index.observe(bitfinex);
    };
    quotes(0, { venue: "bitfinex", bid: 100_600, ask: 100_602, receivedAt: at(0) });
    const first: IndexPrice = { price: 100_000.01, venues: 3, used: ["coinbase", "kraken", "bitstamp"], dispersion_bps: 0.2, excluded: ["bitfinex"] };
    expect(index.compute(at(0))).toEqual(first);
    quotes(1000, { venue: "bitfinex", bid: 100_399, ask: 100_401, receivedAt: at(1000) });
    expect(index.compute(at(1000))).toEqual(first);
    quotes(2000, { venue: "bitfinex", bid: 100_199, ask: 100_201, receivedAt: at(2000) });
    expect(index.compute(at(2000))).toEqual({ price: 100_001.01, venues: 4, used: all, dispersion_bps: 20, excluded: [] });
    index.observe({ venue: "coinbase", bid: 100_000.0, ask: 100_000.02, receivedAt: at(4500) });
    index.observe({ venue: "bitfinex", bid: 100_199, ask: 100_201, receivedAt: at(4500) });
    expect(priced(index.compute(at(4500)))).toMatchObject({ price: 100_100.01, used: ["coinbase", "bitfinex"] });
    expect(index.compute(at(6501))).toMatchObject({ price: undefined, fresh: 0 });
  });
});

describe("composite index: options", () => {
  test("compute and states use the clock when given no time", () => {
    let now = T;
    const index = createCompositeIndex({ venues: ["coinbase", "kraken"], now: () => now });
    index.observe(last("coinbase", 100_000));
    index.observe(last("kraken", 100_000));
    expect(index.compute().price).toBe(100_000);
    now = T + 2001;
    expect(index.compute().price).toBeUndefined();
    expect(index.states()).toEqual({ coinbase: "stale", kraken: "stale" });
  });

  test("rejects settings it cannot index with", () => {
    expect(() => createCompositeIndex({ venues: [] })).toThrow(RangeError);
    expect(() => createCompositeIndex({ venues: ["coinbase", "coinbase"] })).toThrow(RangeError);
    expect(() => createCompositeIndex({ venues: all, staleMs: 0 })).toThrow(RangeError);
    expect(() => createCompositeIndex({ venues: all, maxDeviationBps: 0 })).toThrow(RangeError);
    expect(() => createCompositeIndex({ venues: all, maxDeviationBps: Number.NaN })).toThrow(RangeError);
    expect(() => createCompositeIndex({ venues: all, minVenues: 0 })).toThrow(RangeError);
    expect(() => createCompositeIndex({ venues: all, minVenues: 1.5 })).toThrow(RangeError);
    expect(() => createCompositeIndex({ venues: ["coinbase"], minVenues: 2 })).toThrow(RangeError);
  });
});
