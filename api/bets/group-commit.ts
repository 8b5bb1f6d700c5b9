import { histogram } from "../../common/metrics/registry.ts";

/**
 * Collects the items that arrive close together (within one event-loop turn,
 * or up to `maxDelayMs`) and writes them with one call, one database
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
  /** Writes whatever is pending now (at shutdown); resolves once it and any batch in flight are written. */
  flush(): Promise<void>;
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
  /**
   * How many batches of an asynchronous writer may be in flight at once (1:
   * one at a time). More lets the next batch's first round trip wait at the
   * database, for the locks the batch before holds, instead of in this process.
   */
  maxInFlight?: number;
}

interface Waiter<R> {
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/** What a batch write returns: the results at once (SQLite), or once committed (PostgreSQL). */
type Written<R> = R[] | Promise<R[]>;

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as Promise<T> | undefined)?.then === "function";

/**
 * A group committer over `writeBatch` (see `GroupCommitter`). A synchronous
 * writer (SQLite) writes each batch within the flush; an asynchronous one
 * (PostgreSQL) has at most `maxInFlight` batches in flight, and what arrives
 * while that many are waits for the next. Batches in flight at once are
 * separate transactions: the writer's own row locks order them (the
 * PostgreSQL store locks a batch's players, cells and a part of the house).
 *
 * ```ts
 * const commits = createGroupCommitter(bets.placeBatch, { maxDelayMs: 0, maxInFlight: 2 });
 * const outcome = await commits.submit(order); // once its batch is on disk
 * ```
 */
export function createGroupCommitter<T, R>(
  writeBatch: (items: readonly T[]) => Written<R>,
  { maxBatch = 1024, maxDelayMs = 0, maxInFlight = 1 }: GroupCommitOptions = {},
): GroupCommitter<T, R> {
  let items: T[] = [];
  let waiters: Waiter<R>[] = [];
  let scheduled = false;
  const inFlight = new Set<Promise<void>>();
  const full = () => inFlight.size >= maxInFlight;
  const batchSize = histogram({
    name: "tap_bets_commit_batch_size",
    help: "Bets written per group commit (one database transaction).",
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1024],
  });
  const commitSeconds = histogram({
    name: "tap_bets_commit_duration_seconds",
    help: "Time to write one group commit's batch (the transaction, its retries one by one included), in seconds.",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
  });

  /** After a batch failed: each item on its own, in order, so a single bad item fails alone. */
  const writeEachAlone = async (batch: readonly T[], batchWaiters: readonly Waiter<R>[]) => {
    for (const [index, item] of batch.entries()) {
      const waiter = batchWaiters[index]!;
      try {
        const [result] = await writeBatch([item]);
        waiter.resolve(result as R);
      } catch (error) {
        waiter.reject(error);
      }
    }
  };

  const writeEachAloneNow = (batch: readonly T[], batchWaiters: readonly Waiter<R>[]) => {
    batch.forEach((item, index) => {
      const waiter = batchWaiters[index]!;
      try {
        const written = writeBatch([item]);
        if (isPromise(written)) written.then(([result]) => waiter.resolve(result as R), waiter.reject);
        else waiter.resolve(written[0] as R);
      } catch (error) {
        waiter.reject(error);
      }
    });
  };

  const flush = (): Promise<void> => {
    scheduled = false;
    if (full()) return Promise.race(inFlight).then(flush);
    if (items.length === 0) return Promise.all(inFlight).then(() => undefined);
    const batch = items;
    const batchWaiters = waiters;
    items = [];
    waiters = [];
    const started = performance.now();
    const observe = () => commitSeconds.observe((performance.now() - started) / 1000);
    batchSize.observe(batch.length);
    let written: Written<R>;
    try {
      written = writeBatch(batch);
    } catch (error) {
      if (batch.length === 1) batchWaiters[0]?.reject(error);
      else writeEachAloneNow(batch, batchWaiters);
      observe();
      return Promise.resolve();
    }
    if (!isPromise(written)) {
      observe();
      batchWaiters.forEach((waiter, index) => waiter.resolve(written[index] as R));
      return Promise.resolve();
    }
    const writing: Promise<void> = written
      .then(
        (results) => batchWaiters.forEach((waiter, index) => waiter.resolve(results[index] as R)),
        (error: unknown) => (batch.length === 1 ? batchWaiters[0]?.reject(error) : writeEachAlone(batch, batchWaiters)),
      )
      .finally(() => {
        observe();
        inFlight.delete(writing);
        // What arrived while the writer was full goes next, as one batch.
        if (items.length > 0 && !scheduled) void flush();
      });
    inFlight.add(writing);
    return Promise.all(inFlight).then(() => undefined);
  };

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        items.push(item);
        waiters.push({ resolve, reject });
        if (full()) return; // written when a batch in flight is done
        if (items.length >= maxBatch) void flush();
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
