/**
 * Small statistics for benchmark figures: medians over rounds, percentiles over
 * samples, and a fixed-bucket latency histogram that worker processes can send
 * back as a plain array and the parent can merge.
 */

/**
 * The median of `values`, or NaN for an empty list.
 *
 * ```ts
 * median([3, 1, 2]); // 2
 * median([4, 1, 2, 3]); // 2.5
 * ```
 */
export function median(values: readonly number[]): number {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const middle = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? finite[middle]! : (finite[middle - 1]! + finite[middle]!) / 2;
}

/**
 * Latencies in whole milliseconds, one bucket per millisecond up to `maxMs`;
 * anything slower lands in the last bucket (reported as "≥ maxMs").
 */
export interface LatencyHistogram {
  /** counts[i] = number of samples of i ms (the last bucket holds i ≥ counts.length - 1). */
  counts: number[];
}

/**
 * An empty histogram with buckets 0…maxMs.
 *
 * ```ts
 * const h = createHistogram(10_000);
 * recordLatency(h, 12);
 * histogramPercentile(h, 0.99); // 12
 * ```
 */
export function createHistogram(maxMs = 10_000): LatencyHistogram {
  return { counts: new Array<number>(maxMs + 1).fill(0) };
}

/** Adds one sample; negative values (clock rounding) count as 0 ms. */
export function recordLatency(histogram: LatencyHistogram, ms: number): void {
  const last = histogram.counts.length - 1;
  const bucket = ms <= 0 ? 0 : ms >= last ? last : Math.floor(ms);
  histogram.counts[bucket]!++;
}

/** Adds `from` into `into` bucket by bucket (both must have the same size). */
export function mergeHistogram(into: LatencyHistogram, from: LatencyHistogram): void {
  if (from.counts.length !== into.counts.length) throw new RangeError("histograms differ in size");
  for (let i = 0; i < from.counts.length; i++) into.counts[i]! += from.counts[i]!;
}

/** How many samples the histogram holds. */
export function histogramCount(histogram: LatencyHistogram): number {
  let total = 0;
  for (const count of histogram.counts) total += count;
  return total;
}

/**
 * The smallest latency (ms) at or below which a fraction `q` of the samples lie,
 * or NaN when the histogram is empty.
 */
export function histogramPercentile(histogram: LatencyHistogram, q: number): number {
  if (q < 0 || q > 1) throw new RangeError(`percentile ${q} is outside 0…1`);
  const total = histogramCount(histogram);
  if (total === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < histogram.counts.length; i++) {
    seen += histogram.counts[i]!;
    if (seen >= rank) return i;
  }
  return histogram.counts.length - 1;
}

/** The largest latency recorded (ms), or NaN when empty. */
export function histogramMax(histogram: LatencyHistogram): number {
  for (let i = histogram.counts.length - 1; i >= 0; i--) if (histogram.counts[i]! > 0) return i;
  return Number.NaN;
}
