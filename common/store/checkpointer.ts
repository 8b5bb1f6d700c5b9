import type { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import { counter, gaugeReading, histogram } from "../metrics/registry.ts";
// Imported as a file, not a module: `bun build --compile` then embeds it, so the
// compiled binary can start the worker (a worker's entry point is not bundled
// with the code that starts it, and scripts/build.sh names only main.ts).
import workerPath from "./checkpoint-worker.js" with { type: "file" };

/**
 * One checkpoint the worker ran (sent only when the WAL had pages), or the writer's own catch-up.
 *
 * ```ts
 * const report: CheckpointReport = { kind: "checkpoint", mode: "PASSIVE", busy: 0, walPages: 1200, checkpointedPages: 1200, ms: 3.1 };
 * ```
 */
export interface CheckpointReport {
  kind: "checkpoint";
  /** PASSIVE: the worker's, on its timer; CATCH_UP: the writer's own, to let the WAL rewind. */
  mode: "PASSIVE" | "CATCH_UP";
  /** 1 when the checkpoint could not finish (a reader or writer held it up). */
  busy: number;
  /** WAL frames before the checkpoint. */
  walPages: number;
  /** Frames copied into the database file (all of them when the checkpoint finished). */
  checkpointedPages: number;
  /** How long the checkpoint took. */
  ms: number;
}

type CheckpointWorkerStart = { kind: "start"; path: string; intervalMs: number; catchUpAbovePages: number };
type CheckpointWorkerMessage =
  | CheckpointReport
  | { kind: "ready" }
  | { kind: "catch-up"; walPages: number }
  | { kind: "stopped" }
  | { kind: "error"; message: string; fatal?: boolean };

/**
 * How often `startCheckpointer` checkpoints, when the writer catches up, and
 * whom it tells; `DEFAULT_INTERVAL_MS` and `DEFAULT_CATCH_UP_ABOVE_PAGES` unless set.
 *
 * ```ts
 * const options: CheckpointerOptions = { intervalMs: 100, onError: (message) => log.error({ err: message }, "checkpointer failed") };
 * ```
 */
export interface CheckpointerOptions {
  /** How often the worker checkpoints, ms. */
  intervalMs?: number;
  /**
   * A WAL with more pages than this after the worker's checkpoint is caught up
   * by the writer's own thread, so that it rewinds. That costs the writer one
   * checkpoint with fsyncs (6–43 ms measured at 20,000 bets/s), once per bound
   * written: 256 MiB at 4 KiB pages, every ~1.5 s at that load; at 64 MiB it was
   * every ~0.5 s and put bets' p99 over 20 ms. A larger bound makes it rarer but
   * the WAL file bigger (it keeps its high-water mark) and every page lookup a
   * little slower (SQLite searches the WAL index, one hash table per 4,096 frames).
   */
  catchUpAbovePages?: number;
  /** Each checkpoint that had pages to copy, for logs and tests. */
  onCheckpoint?: (report: CheckpointReport) => void;
  /** The worker failed; SQLite's automatic checkpoint has been switched back on. */
  onError?: (message: string) => void;
}

/**
 * A running checkpointer (`startCheckpointer`): wait for it, and stop it before closing the database.
 *
 * ```ts
 * await checkpointer.ready;
 * await checkpointer.stop();
 * ```
 */
export interface Checkpointer {
  /** Resolves once the worker has its connection open. */
  readonly ready: Promise<void>;
  /** Stops the worker and switches SQLite's automatic checkpoint back on. */
  stop(): Promise<void>;
}

/** SQLite's default: checkpoint on commit once the WAL holds this many pages. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/** The worker checkpoints this often, ms, unless `intervalMs` is set. */
const DEFAULT_INTERVAL_MS = 200;
/** The writer catches up past 64 Ki pages (256 MiB at 4 KiB pages), unless set; `catchUpAbovePages` says why. */
const DEFAULT_CATCH_UP_ABOVE_PAGES = 65_536;
/** `stop` waits this long for the worker to say it stopped, then terminates it anyway. */
const STOP_TIMEOUT_MS = 5000;

/**
 * Moves WAL checkpoints off the thread that writes: switches off SQLite's
 * automatic checkpoint on `db` (which runs inside a commit and fsyncs, stalling
 * the event loop for tens of ms) and runs `wal_checkpoint(PASSIVE)` every
 * `intervalMs` from a Bun Worker with its own connection to the same file.
 * The WAL stays bounded: a checkpoint that caught up lets the next commit
 * rewind the WAL (written again from its start); when writes never pause long
 * enough for that and the WAL passes `catchUpAbovePages`, the writer's thread
 * finishes the checkpoint itself. Durability is SQLite's own: a commit is in
 * the WAL before it returns, and `synchronous = NORMAL` syncs the WAL at each
 * checkpoint. Metrics (docs/metrics.md): each checkpoint's duration by mode,
 * failures, the WAL file's size and the pages the last checkpoint found.
 *
 * ```ts
 * const db = openStore("/data/bets.db");
 * const checkpointer = startCheckpointer(db, "/data/bets.db");
 * // … at shutdown, before db.close():
 * await checkpointer.stop();
 * ```
 */
export function startCheckpointer(
  db: Database,
  path: string,
  { intervalMs = DEFAULT_INTERVAL_MS, catchUpAbovePages = DEFAULT_CATCH_UP_ABOVE_PAGES, onCheckpoint, onError }: CheckpointerOptions = {},
): Checkpointer {
  if (path === ":memory:") return { ready: Promise.resolve(), stop: async () => {} };
  db.exec("PRAGMA wal_autocheckpoint = 0");
  // No journal_size_limit: the WAL file keeps its high-water mark (bounded by
  // catchUpAbovePages plus one interval's writes) and is rewritten from its
  // start after each rewind. Trimming it at the rewind runs an ftruncate of
  // hundreds of MB inside a commit, on this thread: a stall as bad as the
  // checkpoints this module moves away.
  const restoreAutoCheckpoint = () => db.exec(`PRAGMA wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);

  const pageSize = (db.query("PRAGMA page_size").get() as { page_size: number }).page_size;
  const metrics = checkpointMetrics(path, catchUpAbovePages * pageSize);
  const worker = new Worker(workerPath);
  let failed = false;
  const fail = (message: string) => {
    if (failed) return;
    failed = true;
    metrics.failures.inc();
    try {
      restoreAutoCheckpoint();
    } catch {
      // The database is already closed.
    }
    onError?.(message);
  };
  // The writer's thread copies what the worker's last pass left, between two
  // of its own transactions, so the checkpoint finishes and the next commit
  // rewinds the WAL. It costs this thread one checkpoint with its fsyncs
  // (20–70 ms measured under load) once per `catchUpAbovePages`. If the worker
  // is checkpointing right now this returns busy at once, and the worker asks
  // again after its next pass.
  const catchUp = () => {
    if (failed || stopping) return;
    const started = performance.now();
    try {
      const row = db.query("PRAGMA wal_checkpoint(PASSIVE)").get() as { busy: number; log: number; checkpointed: number };
      checkpointed({ kind: "checkpoint", mode: "CATCH_UP", busy: row.busy, walPages: row.log, checkpointedPages: row.checkpointed, ms: performance.now() - started });
    } catch (error) {
      // Never thrown out of a message handler (that would end the process): the worker asks again.
      metrics.failures.inc();
      onError?.((error as Error).message);
    }
  };
  const checkpointed = (report: CheckpointReport) => {
    metrics.observe(report);
    onCheckpoint?.(report);
  };
  let stopping = false;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let markStopped: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));

  worker.onmessage = (event: MessageEvent<CheckpointWorkerMessage>) => {
    const message = event.data;
    switch (message.kind) {
      case "ready":
        return markReady();
      case "checkpoint":
        return checkpointed(message);
      case "catch-up":
        return catchUp();
      case "stopped":
        return markStopped();
      case "error":
        // One failed checkpoint (say, the disk was full for a moment) is retried next tick; a failed open is not.
        if (!message.fatal) {
          metrics.failures.inc();
          return onError?.(message.message);
        }
        fail(message.message);
        markReady();
        return markStopped();
      default:
        message satisfies never;
    }
  };
  worker.onerror = (event) => {
    fail(event.message);
    markReady();
    markStopped();
  };
  worker.postMessage({ kind: "start", path, intervalMs, catchUpAbovePages } satisfies CheckpointWorkerStart);
  // Bun workers can be unref'd like timers: this one never keeps the process alive.
  (worker as Worker & { unref(): void }).unref();

  return {
    ready,
    async stop() {
      stopping = true;
      if (!failed) {
        worker.postMessage({ kind: "stop" });
        await Promise.race([stopped, Bun.sleep(STOP_TIMEOUT_MS)]);
      }
      worker.terminate();
      if (!failed) restoreAutoCheckpoint();
    },
  };
}

/** The checkpointer's metrics; the WAL's size is read from the file when Prometheus scrapes. */
function checkpointMetrics(path: string, boundBytes: number) {
  let walPages = 0;
  gaugeReading(
    { name: "tap_sqlite_wal_bound_bytes", help: "The WAL size past which the writer checkpoints on its own thread (catchUpAbovePages × page size), in bytes: the file stays near it." },
    (set) => set(boundBytes),
  );
  gaugeReading({ name: "tap_sqlite_wal_bytes", help: "Size of the database's WAL file, in bytes (it keeps its high-water mark until a rewind rewrites it from its start)." }, (set) => {
    try {
      set(statSync(`${path}-wal`).size);
    } catch {
      set(0); // no WAL file (yet): nothing written since the last close
    }
  });
  gaugeReading({ name: "tap_sqlite_wal_pages", help: "WAL frames found by the last checkpoint, before it copied them." }, (set) => set(walPages));
  const duration = histogram<"mode">({
    name: "tap_sqlite_checkpoint_duration_seconds",
    help: "WAL checkpoints that had pages to copy, by mode: passive (the worker's, off the writer's thread) or catch_up (on the writer's thread, holding every request), in seconds.",
    labelNames: ["mode"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  });
  return {
    failures: counter({ name: "tap_sqlite_checkpoint_failures_total", help: "WAL checkpoints that failed (the worker's or the writer's)." }),
    observe(report: CheckpointReport): void {
      walPages = report.walPages;
      duration.observe({ mode: report.mode === "PASSIVE" ? "passive" : "catch_up" }, report.ms / 1000);
    },
  };
}
