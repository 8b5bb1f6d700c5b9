import { describe, expect, test } from "bun:test";
import {
  createHistogram,
  histogramCount,
  histogramMax,
  histogramPercentile,
  median,
  mergeHistogram,
  recordLatency,
} from "./stats.ts";

describe("median", () => {
  test("odd, even, empty and non-finite", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(median([Number.NaN, 5])).toBe(5);
  });
});

describe("latency histogram", () => {
  test("percentiles follow nearest rank", () => {
    const h = createHistogram(100);
    for (let ms = 1; ms <= 100; ms++) recordLatency(h, ms);
    expect(histogramCount(h)).toBe(100);
    expect(histogramPercentile(h, 0.5)).toBe(50);
    expect(histogramPercentile(h, 0.99)).toBe(99);
    expect(histogramMax(h)).toBe(100);
  });

  test("clamps below 0 and above the last bucket", () => {
    const h = createHistogram(10);
    recordLatency(h, -3);
    recordLatency(h, 5000);
    expect(h.counts[0]).toBe(1);
    expect(h.counts[10]).toBe(1);
  });

  test("merge adds bucket by bucket and rejects mismatched sizes", () => {
    const a = createHistogram(10);
    const b = createHistogram(10);
    recordLatency(a, 2);
    recordLatency(b, 2);
    mergeHistogram(a, b);
    expect(a.counts[2]).toBe(2);
    expect(() => mergeHistogram(a, createHistogram(5))).toThrow(RangeError);
  });

  test("empty histogram has no percentile", () => {
    expect(histogramPercentile(createHistogram(5), 0.5)).toBeNaN();
    expect(histogramMax(createHistogram(5))).toBeNaN();
  });
});
