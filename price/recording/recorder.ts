import { mkdirSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { BusTick } from "../../common/contracts/price.ts";
import type { Logger } from "../../common/log.ts";
import type { CompositeIndex, IndexResult } from "../index/mod.ts";
import type { VenueName } from "../venues/protocol.ts";
import type { RecordedIndexConfig, RecordLine } from "./format.ts";

/**
 * Where lines go: a Bun `FileSink` (buffered) by default.
 *
 * ```ts
 * const openSink = (path: string): RecordSink => Bun.file(path).writer();
 * ```
 */
export interface RecordSink {
  write(text: string): unknown;
  flush(): unknown;
  end(): unknown;
}

/**
 * Where `createRecorder` writes, how much it keeps, and what each file's `start`
 * line says; the buffer is written out every `DEFAULT_FLUSH_EVERY_MS` unless set.
 *
 * ```ts
 * const options: RecorderOptions = { dir: "/var/lib/tap/price", maxBytes: 64 << 20, maxFiles: 24, intervalMs: 1000, index: config.venues, log };
 * ```
 */
export interface RecorderOptions {
  /** The directory of the `price-<start>.ndjson` files; made if missing. */
  dir: string;
  /** A file is closed and a new one begun once a line would take it past this. */
  maxBytes: number;
  /** At most this many recording files are kept: the oldest go first. */
  maxFiles: number;
  /** The settings every file's `start` line repeats. */
  intervalMs: number;
  /** The index's settings (a `VenueConfig` will do: only these fields are kept). */
  index: RecordedIndexConfig;
  log: Logger;
  now?: () => number;
  /** How often the buffer is written out (it is also written when a file is rotated and on `close`). */
  flushEveryMs?: number;
  /** Opens a file for writing (tests make it fail). */
  openSink?: (path: string) => RecordSink;
}

/**
 * Appends a recording's lines; never throws: a failure is logged and the line is lost, the ticks go on.
 *
 * ```ts
 * const feeds = startVenueFeeds({ config: config.venues, log, onOpen: recorder.open, onFrame: recorder.frame });
 * startPriceWorker({ source, ticks, intervalMs: 1000, log, onPublished: recorder.tick });
 * ```
 */
export interface Recorder {
  open(venue: VenueName, at: number): void;
  frame(venue: VenueName, text: string, at: number): void;
  index(at: number, result: IndexResult): void;
  tick(tick: BusTick): void;
  /** Writes out what is buffered. */
  flush(): void;
  /** Flushes and closes the file; later lines are dropped. */
  close(): Promise<void>;
  stats(): { lines: number; files: number; failures: number; file: string | undefined };
}

/** The buffer is written out once a second unless `flushEveryMs` is set: a crash loses at most about a second of lines. */
const DEFAULT_FLUSH_EVERY_MS = 1000;
/** A file that cannot be opened is tried again no sooner than this, ms, so a full disk is not hammered on every frame. */
const REOPEN_AFTER_MS = 1000;

const FILE_PATTERN = /^price-\d{8}T\d{6}\.\d{3}Z\.ndjson$/;

/** `20261202T053616.123Z`: ISO 8601's basic form, so names sort by time and hold no colon. */
function fileStamp(at: number): string {
  return new Date(at).toISOString().replaceAll("-", "").replaceAll(":", "");
}

/**
 * Records the venues' raw frames, each index computation and each published
 * tick as NDJSON in `dir/price-<start>.ndjson` (format: ./format.ts), so that
 * `price replay` can rebuild the ticks. Files rotate past `maxBytes` and only
 * the newest `maxFiles` are kept, so a recording cannot fill the disk. Writes
 * are buffered and flushed every `flushEveryMs` and at `close`.
 *
 * ```ts
 * const recorder = createRecorder({ dir: "/var/lib/tap/price", maxBytes: 64 << 20, maxFiles: 24, intervalMs: 1000, index, log });
 * recorder.frame("kraken", text, Date.now());
 * await recorder.close();
 * ```
 */
export function createRecorder(options: RecorderOptions): Recorder {
  const { dir, maxBytes, maxFiles, intervalMs, log, now = Date.now, flushEveryMs = DEFAULT_FLUSH_EVERY_MS } = options;
  // Only the index's settings (a venue config also carries the URLs).
  const { venues, staleMs, maxDeviationBps, minVenues } = options.index;
  const index: RecordedIndexConfig = { venues: [...venues], staleMs, maxDeviationBps, minVenues };
  const openSink = options.openSink ?? ((path: string) => Bun.file(path).writer());
  const run = new Date(now()).toISOString();
  let sink: RecordSink | undefined;
  let file: string | undefined;
  let part = -1;
  let bytes = 0;
  let lastStampAt = Number.NEGATIVE_INFINITY;
  let retryAt = Number.NEGATIVE_INFINITY;
  let lines = 0;
  let failures = 0;
  let closed = false;
  /** A failing disk is logged once per streak, not once per frame. */
  let failing = false;

  const fail = (what: string, error: unknown) => {
    failures++;
    if (failing) return;
    failing = true;
    log.error({ dir, file, err: error instanceof Error ? error.message : String(error) }, `recording: ${what} failed; lines are lost until it works again`);
  };

  const flushSink = (target: RecordSink | undefined) => {
    if (!target) return;
    try {
      const pending = target.flush();
      if (pending instanceof Promise) pending.catch((error) => fail("a flush", error));
    } catch (error) {
      fail("a flush", error);
    }
  };

  const endSink = async (target: RecordSink | undefined) => {
    if (!target) return;
    try {
      await target.end();
    } catch (error) {
      fail("closing a file", error);
    }
  };

  /** Removes the oldest recordings beyond `maxFiles` (the current one counts). */
  const prune = () => {
    const names = readdirSync(dir)
      .filter((name) => FILE_PATTERN.test(name))
      .sort();
    for (const name of names.slice(0, Math.max(0, names.length - maxFiles))) {
      unlinkSync(join(dir, name));
      log.info({ file: join(dir, name) }, "recording: removed the oldest file");
    }
  };

  /** Begins the next file with its `start` line; false when it cannot be opened (tried again a second later). */
  const rotate = (at: number): boolean => {
    if (at < retryAt) return false;
    const previous = sink;
    sink = undefined;
    flushSink(previous);
    void endSink(previous);
    // Two files begun in one millisecond would share a name: the later one takes the next.
    const stampAt = Math.max(at, lastStampAt + 1);
    const path = join(dir, `price-${fileStamp(stampAt)}.ndjson`);
    try {
      mkdirSync(dir, { recursive: true });
      sink = openSink(path);
    } catch (error) {
      fail("opening a file", error);
      retryAt = at + REOPEN_AFTER_MS;
      return false;
    }
    file = path;
    lastStampAt = stampAt;
    part++;
    bytes = 0;
    try {
      prune();
    } catch (error) {
      fail("removing old files", error);
    }
    if (part > 0) log.info({ file, part }, "recording: new file");
    return append({ t: "start", at, run, part, intervalMs, index }, false);
  };

  const append = (line: RecordLine, mayRotate = true): boolean => {
    if (closed) return false;
    const text = `${JSON.stringify(line)}\n`;
    const size = Buffer.byteLength(text);
    if (mayRotate && (!sink || (bytes > 0 && bytes + size > maxBytes))) {
      if (!rotate(line.at)) return false;
    }
    if (!sink) return false;
    try {
      sink.write(text);
      bytes += size;
      lines++;
      failing = false;
      return true;
    } catch (error) {
      fail("a write", error);
      return false;
    }
  };

  const timer = setInterval(() => flushSink(sink), flushEveryMs);
  timer.unref?.();

  return {
    open: (venue, at) => void append({ t: "open", venue, at }),
    frame: (venue, text, at) => void append({ t: "frame", venue, at, text }),
    index: (at, result) => void append({ t: "index", at, result }),
    tick: (tick) => void append({ t: "tick", ...tick, at: tick.ts }),
    flush: () => flushSink(sink),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      flushSink(sink);
      await endSink(sink);
      sink = undefined;
    },
    stats: () => ({ lines, files: part + 1, failures, file }),
  };
}

/**
 * The index, with each computation recorded in the same turn of the event
 * loop as it is made: the frames recorded before its line are exactly the
 * quotes it saw.
 *
 * ```ts
 * createVenuesSource({ index: recordComputes(feeds.index, recorder), release: feeds.close });
 * ```
 */
export function recordComputes(index: Pick<CompositeIndex, "compute">, recorder: Pick<Recorder, "index">, now: () => number = Date.now): Pick<CompositeIndex, "compute"> {
  return {
    compute(at = now()) {
      const result = index.compute(at);
      recorder.index(at, result);
      return result;
    },
  };
}
