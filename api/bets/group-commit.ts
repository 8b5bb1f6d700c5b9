import { histogram } from "../../common/metrics/registry.ts";

/**
 * Collects the items that arrive close together (within one event-loop turn,
 * or up to `maxDelayMs`) and writes them with one call, one SQLite
 * transaction, answering each caller only after its batch committed: so an
 * answer always means the data is on disk.
 *
 * `writeBatch` returns one result per item, in order (an item may be refused
 * on its own merits without failing the batch). When the call throws, the
 * batch is retried one item at a time so that a single bad item fails alone.
 * Each batch's size and write time are observed in `tap_bets_commit_batch_size`
 * and `tap_bets_commit_duration_seconds` (docs/metrics.md).
 *
 * ```ts
 * const commits: GroupCommitter<BetOrder, PlaceOutcome> = createGroupCommitter(bets.placeBatch);
 * commits.flush(); // at shutdown
 * ```
 */
export interface GroupCommitter<T, R> {
  /** Resolves with the item's result once its batch is committed; rejects with the write's error. */
  submit(item: T): Promise<R>;
  /** Writes whatever is pending now (at shutdown). */
  flush(): void;
  readonly pending: number;
}

/**
 * How big a batch may grow and how long its first item may wait.
 *
 * ```ts
 * const options: GroupCommitOptions = { maxBatch: 500, maxDelayMs: 2 };
 * ```
 */
export interface GroupCommitOptions {
  /** A batch is written as soon as it holds this many items. */
  maxBatch?: number;
  /** How long the first item of a batch waits for company; 0 means until the event loop's next turn. */
  maxDelayMs?: number;
}

interface Waiter<R> {
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * A group committer over `writeBatch` (see `GroupCommitter`).
 *
 * ```ts
 * const commits = createGroupCommitter(bets.placeBatch, { maxDelayMs: 0 });
 * const outcome = await commits.submit(order); // once its batch is on disk
 * ```
 */
export function createGroupCommitter<T, R>(
  writeBatch: (items: readonly T[]) => R[],
  { maxBatch = 1024, maxDelayMs = 0 }: GroupCommitOptions = {},
): GroupCommitter<T, R> {
  let items: T[] = [];
  let waiters: Waiter<R>[] = [];
  let scheduled = false;
  const batchSize = histogram({
    name: "tap_bets_commit_batch_size",
    help: "Bets written per group commit (one SQLite transaction).",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1024],
  });
  const commitSeconds = histogram({
    name: "tap_bets_commit_duration_seconds",
    help: "Time to write one group commit's batch (the transaction, its retries one by one included), in seconds.",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
  });

  const writeAlone = (item: T, waiter: Waiter<R>) => {
    try {
      const [result] = writeBatch([item]);
      waiter.resolve(result as R);
    } catch (error) {
      waiter.reject(error);
    }
  };

  const flush = () => {
    scheduled = false;
    if (items.length === 0) return;
    const batch = items;
    const batchWaiters = waiters;
    items = [];
    waiters = [];
    const started = performance.now();
    batchSize.observe(batch.length);
    let results: R[];
    try {
      results = writeBatch(batch);
    } catch (error) {
      if (batch.length === 1) batchWaiters[0]?.reject(error);
      else batch.forEach((item, index) => writeAlone(item, batchWaiters[index]!));
      commitSeconds.observe((performance.now() - started) / 1000);
      return;
    }
    commitSeconds.observe((performance.now() - started) / 1000);
    batchWaiters.forEach((waiter, index) => waiter.resolve(results[index] as R));
  };

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        items.push(item);
        waiters.push({ resolve, reject });
        if (items.length >= maxBatch) flush();
        else if (!scheduled) {
          scheduled = true;
          if (maxDelayMs > 0) setTimeout(flush, maxDelayMs);
          else setImmediate(flush);
        }
      });
    },
    flush,
    get pending() {
      return items.length;
    },
  };
}
