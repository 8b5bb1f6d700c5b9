import { basename } from "node:path";
import type { RecordLine } from "./recording/format.ts";
import { createReplay, parseRecordLine, RecordingError } from "./recording/replay.ts";

/** Exit statuses: 1 when a rebuilt tick differs, 2 for bad usage or a file that is not a recording. */
const EXIT_DIFFERS = 1;
const EXIT_USAGE = 2;

const USAGE = "usage: price replay <recording.ndjson>...  (the files of one recording, any order: they are put in the order they were written)";

/**
 * Where the command writes; the process's streams by default.
 *
 * ```ts
 * const lines: string[] = [];
 * const output: ReplayOutput = { out: (line) => lines.push(line), err: (line) => console.error(line) };
 * const status = await replayCommand(files, output);
 * ```
 */
export interface ReplayOutput {
  out(line: string): void;
  err(line: string): void;
  /** Resolves once everything is written (the caller exits right after). */
  drain?(): Promise<void>;
}

/** Buffered writers on stdout and stderr, drained before the exit status is returned: `process.exit` drops pending pipe writes. */
function processOutput(): ReplayOutput {
  const stdout = Bun.stdout.writer();
  const stderr = Bun.stderr.writer();
  return {
    out: (line) => void stdout.write(`${line}\n`),
    err: (line) => void stderr.write(`${line}\n`),
    async drain() {
      await stdout.flush();
      await stderr.flush();
    },
  };
}

/**
 * `price replay <file...>`: rebuilds the ticks of a recording made with
 * `PRICE_RECORD_DIR` and compares them with the recorded ones. Prints each
 * rebuilt tick and then a summary as NDJSON; returns the exit status: 0 when
 * every tick (and every index computation) is rebuilt identically, 1 when any
 * differs, 2 on bad usage or a file that is not a recording.
 *
 * ```ts
 * process.exit(await replayCommand(["/var/lib/tap/price/price-20261202T053616.123Z.ndjson"]));
 * ```
 */
export async function replayCommand(args: string[], output: ReplayOutput = processOutput()): Promise<number> {
  try {
    return await replayFiles(args, output);
  } finally {
    await output.drain?.();
  }
}

async function replayFiles(args: string[], output: ReplayOutput): Promise<number> {
  if (args.length === 0 || args.some((arg) => arg === "-h" || arg === "--help" || arg.startsWith("-"))) {
    output.err(USAGE);
    return EXIT_USAGE;
  }
  const files: { path: string; run: string; part: number; lines: RecordLine[] }[] = [];
  try {
    for (const path of args) {
      let text: string;
      try {
        text = await Bun.file(path).text();
      } catch (error) {
        throw new RecordingError(`cannot read ${path}: ${(error as Error).message}`);
      }
      const lines: RecordLine[] = [];
      let number = 0;
      for (const raw of text.split("\n")) {
        number++;
        if (raw.trim() === "") continue;
        try {
          lines.push(parseRecordLine(raw));
        } catch (error) {
          // The last line of a file cut short (a crash) is only a warning.
          if (number === text.split("\n").length && !text.endsWith("\n")) {
            output.err(`${path}:${number}: a cut-off last line, left out`);
            continue;
          }
          throw new RecordingError(`${path}:${number}: ${(error as Error).message}`);
        }
      }
      const first = lines[0];
      if (first?.t !== "start") throw new RecordingError(`${path}: does not begin with a start line`);
      files.push({ path, run: first.run, part: first.part, lines });
    }
  } catch (error) {
    if (!(error instanceof RecordingError)) throw error;
    output.err(`price replay: ${error.message}`);
    return EXIT_USAGE;
  }
  // In the order written: by run, then part (names sort the same way; this does not rely on them).
  files.sort((a, b) => (a.run === b.run ? a.part - b.part : a.run < b.run ? -1 : 1));
  const replay = createReplay();
  for (const file of files) {
    for (const line of file.lines) {
      for (const tick of replay.feed(line)) {
        output.out(JSON.stringify(tick));
        if (!tick.same) output.err(`${basename(file.path)}: tick seq ${tick.seq} ts ${tick.ts} differs: recorded ${JSON.stringify(tick.recorded)}, rebuilt ${JSON.stringify({ price: tick.price ?? null, venues: tick.venues ?? null, dispersion_bps: tick.dispersion_bps ?? null })}`);
      }
    }
  }
  const summary = replay.summary();
  output.out(JSON.stringify(summary));
  output.err(
    summary.identical
      ? `price replay: ${summary.ticks} tick(s) and ${summary.computes} index computation(s) rebuilt identically from ${summary.frames} frame(s)`
      : `price replay: ${summary.ticks_differ} of ${summary.ticks} tick(s) and ${summary.computes_differ} of ${summary.computes} computation(s) differ`,
  );
  return summary.identical ? 0 : EXIT_DIFFERS;
}
