import { describe, expect, test } from "bun:test";
import { createCompositeIndex, type IndexResult } from "../index/composite-index.ts";
import { createVenuesSource } from "./venues.ts";

/** An index that answers `results` in turn and records the times it was asked at. */
function fakeIndex(...results: IndexResult[]) {
  const asked: (number | undefined)[] = [];
  return {
    asked,
    compute(at?: number): IndexResult {
      asked.push(at);
      const result = results.shift();
      if (!result) throw new Error("fake index: no more results");
      return result;
    },
  };
}

const quoted: IndexResult = { price: 100_000.01, venues: 3, used: ["coinbase", "kraken", "bitstamp"], dispersion_bps: 0.2, excluded: ["bitfinex"] };
const noQuorum: IndexResult = { price: undefined, reason: "no quorum", fresh: 1, usable: 1 };

describe("venues price source", () => {
  test("samples the index's price, and keeps the whole result for the tick", async () => {
    const source = createVenuesSource({ index: fakeIndex(quoted) });
    expect(source.kind).toBe("venues");
    expect(source.lastResult()).toBeUndefined();
    expect(await source.sample()).toBe(100_000.01);
    expect(source.lastResult()).toEqual(quoted);
  });

  test("without a quorum the sample is undefined, so the worker skips the tick", async () => {
    const source = createVenuesSource({ index: fakeIndex(quoted, noQuorum, quoted) });
    expect(await source.sample()).toBe(100_000.01);
    expect(await source.sample()).toBeUndefined();
    expect(source.lastResult()).toEqual(noQuorum);
    expect(await source.sample()).toBe(100_000.01);
  });

  test("computes at its clock's time, or leaves the time to the index", async () => {
    let now = 1_000;
    const timed = fakeIndex(quoted, quoted);
    const source = createVenuesSource({ index: timed, now: () => now });
    await source.sample();
    now = 2_000;
    await source.sample();
    expect(timed.asked).toEqual([1_000, 2_000]);
    const untimed = fakeIndex(quoted);
    await createVenuesSource({ index: untimed }).sample();
    expect(untimed.asked).toEqual([undefined]);
  });

  test("an index that throws makes the sample reject (the worker logs it and skips)", async () => {
    const source = createVenuesSource({ index: fakeIndex() });
    await expect(source.sample()).rejects.toThrow("no more results");
  });

  test("close releases the feeds once", async () => {
    let released = 0;
    const source = createVenuesSource({ index: fakeIndex(), release: async () => void released++ });
    await source.close();
    await source.close();
    expect(released).toBe(1);
    await createVenuesSource({ index: fakeIndex() }).close(); // nothing to release
  });

  test("over a real index: a price with a quorum, none once the venues go stale", async () => {
    let now = 1_700_000_000_000;
    const index = createCompositeIndex({ venues: ["coinbase", "kraken"], now: () => now });
    const source = createVenuesSource({ index });
    expect(await source.sample()).toBeUndefined();
    index.observe({ venue: "coinbase", bid: 100_000, ask: 100_000.02, receivedAt: now });
    index.observe({ venue: "kraken", last: 100_000.04, receivedAt: now });
    expect(await source.sample()).toBe(100_000.03);
    expect(source.lastResult()).toMatchObject({ venues: 2, used: ["coinbase", "kraken"] });
    now += 2_001;
    expect(await source.sample()).toBeUndefined();
    expect(source.lastResult()).toEqual({ price: undefined, reason: "no quorum", fresh: 0, usable: 0 });
  });
});
