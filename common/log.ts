import pino, { type DestinationStream, type Logger, type LevelWithSilent } from "pino";
import { createRedactor } from "./redact.ts";

/**
 * The services' logger (pino's), as `createLogger` makes it.
 *
 * ```ts
 * function startThing({ log }: { log: Logger }) { log.info({ port: 8081 }, "listening"); }
 * ```
 */
export type { Logger };

/**
 * A line sink that buffers writes and flushes them in batches.
 *
 * ```ts
 * const sink: BufferedSink = createBufferedSink((text) => process.stdout.write(text));
 * sink.write('{"msg":"hi"}\n');
 * sink.flush();
 * ```
 */
export interface BufferedSink extends DestinationStream {
  flush(): void;
}

/** A batch of lines is written out once it holds this many characters (and stdout's writer buffers as many). */
const BATCH_CHARS = 64 * 1024;

/**
 * Stdout through Bun's file writer, with lines gathered in a string first and
 * written every `flushMs`, at 64K characters, and at exit. One write per batch
 * instead of per line is what keeps request logging cheap under load; a crash
 * loses at most `flushMs` of lines.
 *
 * ```ts
 * const sink = createStdoutSink();
 * const log = createLogger({ component: "ws", level: "info", sink });
 * ```
 */
export function createStdoutSink(flushMs = 50): BufferedSink {
  const writer = Bun.stdout.writer({ highWaterMark: BATCH_CHARS });
  const sink = createBufferedSink((text) => void writer.write(text), { afterFlush: () => void writer.flush() });
  setInterval(sink.flush, flushMs).unref();
  process.on("exit", sink.flush);
  return sink;
}

/**
 * Gathers lines into one string and hands it to `writeOut` on `flush()` or once
 * it reaches `maxChars`: appending to a string costs far less than a call into
 * the writer per line.
 *
 * ```ts
 * const lines: string[] = [];
 * const sink = createBufferedSink((text) => lines.push(text), { maxChars: 1024 });
 * sink.write("a\n");
 * sink.flush(); // lines: ["a\n"]
 * ```
 */
export function createBufferedSink(
  writeOut: (text: string) => void,
  { maxChars = BATCH_CHARS, afterFlush = () => {} }: { maxChars?: number; afterFlush?: () => void } = {},
): BufferedSink {
  let pending = "";
  const flush = () => {
    if (pending.length > 0) {
      const text = pending;
      pending = "";
      writeOut(text);
    }
    afterFlush();
  };
  return {
    write(line: string) {
      pending += line;
      if (pending.length >= maxChars) flush();
    },
    flush,
  };
}

let isoMs = 0;
let isoText = "";
/**
 * The current time as ISO 8601, formatted at most once per millisecond:
 * under load many lines share a millisecond, and formatting dates is costly.
 *
 * ```ts
 * isoNow(); // "2026-12-02T07:22:44.123Z"
 * ```
 */
export function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

/** Printable ASCII but `"` and `\`: the text is its own JSON string body. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/**
 * `JSON.stringify(text)`, skipped for the usual plain text (a method, a path,
 * an id, an address): for the lines written by hand on hot paths.
 *
 * ```ts
 * jsonString("/api/bets"); // '"/api/bets"'
 * jsonString('say "hi"');  // '"say \\"hi\\""', as JSON.stringify
 * ```
 */
export function jsonString(text: string): string {
  return PLAIN.test(text) ? `"${text}"` : JSON.stringify(text);
}

/**
 * What `createLogger` makes a logger from.
 *
 * ```ts
 * const options: LoggerOptions = { component: "ws", level: "info", sink: createStdoutSink() };
 * ```
 */
export interface LoggerOptions {
  component: "api" | "ws" | "price" | (string & {});
  level: LevelWithSilent;
  /** Where the JSON lines go; buffered stdout when omitted. */
  sink?: DestinationStream;
  /** Values never to appear in a line (the session secret, keys, passwords): written as `***`. */
  secrets?: readonly (string | undefined)[];
}

/**
 * The services' logger: pino JSON lines with a `component` field. Every line, at
 * every level, has the user info of any URL in it (`redis://user:pass@host`) and
 * each of `secrets` replaced by `***` (common/redact.ts), whatever a caller put in it.
 *
 * ```ts
 * const log = createLogger({ component: "api", level: "info", secrets: [config.sessionSecret] });
 * log.info({ port: 8080 }, "listening");
 * ```
 */
export function createLogger({ component, level, sink, secrets = [] }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { component },
      timestamp: () => `,"time":"${isoNow()}"`,
      formatters: { level: (label) => ({ level: label }) },
      hooks: { streamWrite: createRedactor(secrets) },
    },
    sink ?? createStdoutSink(),
  );
}
