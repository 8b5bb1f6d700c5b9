import pino, { type DestinationStream, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

/** A line sink that buffers writes and flushes them in batches. */
export interface BufferedSink extends DestinationStream {
  flush(): void;
}

/**
 * Stdout through Bun's buffered file writer, flushed every `flushMs` and at exit.
 * One `write` syscall per batch instead of per line is what keeps request
 * logging cheap under load; a crash loses at most `flushMs` of lines.
 */
export function createStdoutSink(flushMs = 50): BufferedSink {
  const writer = Bun.stdout.writer({ highWaterMark: 64 * 1024 });
  const flush = () => {
    writer.flush();
  };
  setInterval(flush, flushMs).unref();
  process.on("exit", flush);
  return {
    write(line: string) {
      writer.write(line);
    },
    flush,
  };
}

let isoMs = 0;
let isoText = "";
/**
 * The current time as ISO 8601, formatted at most once per millisecond:
 * under load many lines share a millisecond, and formatting dates is costly.
 */
export function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

export interface LoggerOptions {
  component: "api" | "ws" | "price" | (string & {});
  level: LevelWithSilent;
  /** Where the JSON lines go; buffered stdout when omitted. */
  sink?: DestinationStream;
}

/**
 * The services' logger: pino JSON lines with a `component` field.
 *
 * ```ts
 * const log = createLogger({ component: "api", level: "info" });
 * log.info({ port: 8080 }, "listening");
 * ```
 */
export function createLogger({ component, level, sink }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { component },
      timestamp: () => `,"time":"${isoNow()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    sink ?? createStdoutSink(),
  );
}
