/**
 * Collects the items that arrive within one event-loop turn and writes them
 * with one call (one SQLite transaction), resolving each caller only after its
 * batch is written: so an answer always means the data is stored.
 *
 * When a batch fails, its items are retried one by one so that a single bad
 * item fails alone.
 */
export interface GroupCommitter<T> {
  /** Resolves once `item` is written; rejects with the write's error. */
  submit(item: T): Promise<void>;
  /** Writes whatever is pending now (at shutdown). */
  flush(): void;
  readonly pending: number;
}

export interface GroupCommitOptions {
  /** A batch is written as soon as it holds this many items. */
  maxBatch?: number;
  /** How long the first item of a batch waits for company; 0 means until the event loop's next turn. */
  maxDelayMs?: number;
}

export function createGroupCommitter<T>(
  writeBatch: (items: readonly T[]) => void,
  { maxBatch = 1024, maxDelayMs = 0 }: GroupCommitOptions = {},
): GroupCommitter<T> {
  let items: T[] = [];
  let waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    if (items.length === 0) return;
    const batch = items;
    const batchWaiters = waiters;
    items = [];
    waiters = [];
    try {
      writeBatch(batch);
      for (const waiter of batchWaiters) waiter.resolve();
    } catch (batchError) {
      if (batch.length === 1) return batchWaiters[0]?.reject(batchError);
      batch.forEach((item, index) => {
        try {
          writeBatch([item]);
          batchWaiters[index]?.resolve();
        } catch (error) {
          batchWaiters[index]?.reject(error);
        }
      });
    }
  };

  return {
    submit(item) {
      return new Promise<void>((resolve, reject) => {
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
