// The checkpointer's thread (see checkpointer.ts, which also types the messages).
// It opens its own connection to the database and, on a timer, copies the WAL
// back into the database file with `wal_checkpoint(PASSIVE)`: that never takes
// the writer's lock, so the API's event loop never waits for it, and the fsyncs
// a checkpoint needs happen here instead of inside a request's commit.
//
// Plain JavaScript importing only built-ins: `bun build --compile` embeds this
// file as it is (a `type: "file"` import) and the binary runs it untranspiled.
import { Database } from "bun:sqlite";

/** @type {Database | undefined} */
let db;
/** @type {ReturnType<typeof setInterval> | undefined} */
let timer;
/** Before asking for a catch-up, at most this many passes more, stopping at one that took under QUICK_PASS_MS. */
const MAX_EXTRA_PASSES = 4;
const QUICK_PASS_MS = 3;

function checkpoint() {
  const started = performance.now();
  const row = db.query("PRAGMA wal_checkpoint(PASSIVE)").get();
  return { kind: "checkpoint", mode: "PASSIVE", busy: row.busy, walPages: row.log, checkpointedPages: row.checkpointed, ms: performance.now() - started };
}

/** @param {number} catchUpAbovePages */
function tick(catchUpAbovePages) {
  try {
    let report = checkpoint();
    if (report.walPages > 0) postMessage(report);
    // Under steady writes a checkpoint from here never quite catches up with
    // the writer, so the WAL never rewinds and keeps growing. Past the bound,
    // ask the writer's thread to copy the few frames committed since this pass
    // itself (see checkpointer.ts). Not TRUNCATE or RESTART from here: they take
    // the writer's lock, and a writer's transaction that has already read gets
    // SQLITE_BUSY at once, without waiting, when it then tries to write.
    if (report.walPages > catchUpAbovePages) {
      // First shrink what the writer will copy while every request waits: passes back to
      // back, each copying what was committed during the one before, until one is quick.
      for (let pass = 0; pass < MAX_EXTRA_PASSES && report.ms > QUICK_PASS_MS; pass++) {
        report = checkpoint();
        postMessage(report);
      }
      postMessage({ kind: "catch-up", walPages: report.walPages });
    }
  } catch (error) {
    postMessage({ kind: "error", message: String(error?.message ?? error) });
  }
}

self.onmessage = (event) => {
  const message = event.data;
  if (message.kind === "start") {
    try {
      db = new Database(message.path, { readwrite: true, create: false });
      // Waiting for the writer's lock blocks only this thread.
      db.exec("PRAGMA busy_timeout = 1000");
      db.exec("PRAGMA wal_autocheckpoint = 0");
    } catch (error) {
      postMessage({ kind: "error", fatal: true, message: String(error?.message ?? error) });
      return;
    }
    const { catchUpAbovePages } = message;
    timer = setInterval(() => tick(catchUpAbovePages), message.intervalMs);
    postMessage({ kind: "ready" });
  } else {
    clearInterval(timer);
    db?.close(false);
    db = undefined;
    postMessage({ kind: "stopped" });
  }
};
