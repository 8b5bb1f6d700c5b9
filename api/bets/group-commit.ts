/**
 * Collects the items that arrive close together (within one event-loop turn,
 * or up to `maxDelayMs`) and writes them with one call, one SQLite
 * transaction, answering each caller only after its batch committed: so an
 * answer always means the data is on disk.
 *
 * `writeBatch` returns one result per item, in order (an item may be refused
 * on its own merits without failing the batch). When the call throws, the
 * batch is retried one item at a time so that a single bad item fails alone.
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
    let results: R[];
    try {
      results = writeBatch(batch);
    } catch (error) {
      if (batch.length === 1) return batchWaiters[0]?.reject(error);
      batch.forEach((item, index) => writeAlone(item, batchWaiters[index]!));
      return;
    }
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
