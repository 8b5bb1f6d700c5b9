import { waitFor } from "../../test/support/wait.ts";

/** Where a server's stdout and stderr go: a file (as under journald, it costs a write) or nowhere. */
export type LogSink = { kind: "file"; path: string } | { kind: "null" };

export interface ServerProcessOptions {
  /** Shown in messages, e.g. "ours api". */
  label: string;
  cmd: string[];
  cwd?: string;
  /** Added to a minimal environment (PATH and HOME only), so nothing leaks in from the shell. */
  env: Record<string, string>;
  logs: LogSink;
  /** Resolves truthy once the server is ready; polled until `readyTimeoutMs`. */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
}

/** A server under test, running as its own process. */
export interface ServerProcess {
  label: string;
  pid: number;
  logs: LogSink;
  /** Exit code, or undefined while it runs. */
  exitCode(): number | null;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Spawns a server and waits until `ready()` says so; if it dies first, throws
 * with its exit code (its log file says why).
 *
 * ```ts
 * await using api = await startServerProcess({
 *   label: "go api", cmd: ["/tmp/go-peer/bin/api"], env: { PORT: "9000" },
 *   logs: { kind: "null" }, ready: async () => (await fetch("http://127.0.0.1:9000/healthz")).ok,
 * });
 * ```
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const { label, cmd, env, logs, ready, readyTimeoutMs = 20_000 } = options;
  const sink = logs.kind === "file" ? Bun.file(logs.path) : "ignore";
  const proc = Bun.spawn(cmd, {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    stdin: "ignore",
    stdout: sink,
    stderr: sink,
  });
  const stop = async (graceMs = 5_000) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
    const code = await proc.exited;
    clearTimeout(timer);
    return code;
  };
  try {
    await waitFor(`${label} to be ready`, async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`${label} exited with ${proc.exitCode ?? proc.signalCode}${logs.kind === "file" ? `; see ${logs.path}` : ""}`);
      }
      return await ready();
    }, readyTimeoutMs, 50);
  } catch (error) {
    await stop(1_000);
    throw error;
  }
  return {
    label,
    pid: proc.pid,
    logs,
    exitCode: () => proc.exitCode,
    stop,
    async [Symbol.asyncDispose]() {
      await stop();
    },
  };
}

/** Resolves true when `url` answers 2xx. */
export async function answersOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.ok;
}
