import { join } from "node:path";
import { freePort } from "./ports.ts";
import { waitFor } from "./wait.ts";

const ROOT = join(import.meta.dir, "..", "..");

export type ServiceName = "api" | "ws" | "price";

/** A service running as its own process, with its log lines captured. */
export interface RunningService {
  name: ServiceName;
  proc: ReturnType<typeof Bun.spawn>;
  /** Every stdout line so far (pino JSON). */
  lines: string[];
  /** The parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** Waits for a log line that matches. */
  waitForLog(what: string, match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends `signal` and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The session secret test APIs and ws servers run with unless a test sets its own (or "" to have none). */
export const TEST_SESSION_SECRET = "test-session-secret-0123456789abcdef";

/**
 * Starts `bun <name>/main.ts` (or `$SERVICE_BIN_DIR/<name>` when the tests run
 * the compiled binaries) with `env` added to a minimal environment.
 */
export function spawnService(name: ServiceName, env: Record<string, string>): RunningService {
  if ((name === "api" || name === "ws") && env.SESSION_SECRET === undefined && env.SESSION_SECRET_FILE === undefined) {
    env = { SESSION_SECRET: TEST_SESSION_SECRET, ...env };
  }
  // price's /healthz on any free port unless a test names one: tests run several at once.
  if (name === "price" && env.PORT === undefined) env = { PORT: "0", ...env };
  const binDir = process.env.SERVICE_BIN_DIR;
  const cmd = binDir ? [join(binDir, name)] : [process.execPath, join(ROOT, name, "main.ts")];
  const proc = Bun.spawn(cmd, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LOG_LEVEL: "debug", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        lines.push(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf("\n");
      }
    }
    if (buffered) lines.push(buffered);
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  const logs = () =>
    lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
    const code = await proc.exited;
    clearTimeout(timer);
    return code;
  };
  return {
    name,
    proc,
    lines,
    logs,
    waitForLog: (what, match, timeoutMs = 10_000) => waitFor(`${name} log: ${what}`, () => logs().find(match), timeoutMs),
    stop,
    async [Symbol.asyncDispose]() {
      await stop("SIGKILL");
    },
  };
}

/** Waits until `url` answers 200. */
export async function waitForHttp(url: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(`200 from ${url}`, async () => (await fetch(url)).status === 200, timeoutMs, 50);
}

/** The API as `startApi` started it: where it listens, too. */
export type RunningApi = RunningService & { port: number; base: string };

/**
 * The API on a free port with `env` (REDIS_URL and DB_PATH at least), once `/healthz`
 * answers; with `grid`, once it also serves a priced grid (it has seen a fresh price).
 *
 * ```ts
 * const api = await startApi({ REDIS_URL: redis.url, DB_PATH: dbPath }, { grid: true });
 * await fetch(`${api.base}/api/grid`);
 * ```
 */
export async function startApi(env: Record<string, string>, { grid = false }: { grid?: boolean } = {}): Promise<RunningApi> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const api = spawnService("api", { PORT: String(port), ...env });
  try {
    await waitForHttp(`${base}/healthz`);
    if (grid) await waitFor("a priced grid", async () => (await fetch(`${base}/api/grid`)).status === 200);
  } catch (error) {
    await api.stop("SIGKILL");
    throw error;
  }
  return Object.assign(api, { port, base });
}
