import { join } from "node:path";

/** The Lua scripts beside the benchmarks. */
export const WRK_DIR = join(import.meta.dir, "..", "wrk");

export interface WrkOptions {
  /** Full URL; its path is what `healthz.lua` requests (`bets.lua` always posts /api/bets). */
  url: string;
  /** A script in bench/wrk/, e.g. "healthz.lua". */
  script: string;
  scriptArgs?: string[];
  threads: number;
  connections: number;
  durationSeconds: number;
  /** wrk's per-request timeout, seconds. */
  timeoutSeconds?: number;
}

/** One wrk run, in the units the tables use. */
export interface WrkResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Responses with status ≥ 400 (wrk counts these; it does not see 1xx/3xx as errors). */
  errorStatus: number;
  /** connect + read + write + timeout errors. */
  socketErrors: number;
  /** CPU seconds wrk itself used (user + system). */
  generatorCpuSeconds: number;
  /** Answers by HTTP status, when the script prints a `WRK_STATUS` line (auth-bets.lua). */
  statuses?: Record<string, number>;
}

/**
 * Runs wrk with a script from bench/wrk/ that prints a `WRK_JSON` line, and parses it.
 *
 * ```ts
 * const result = await runWrk({ url: "http://127.0.0.1:8080/healthz", script: "healthz.lua", threads: 1, connections: 64, durationSeconds: 10 });
 * ```
 */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const { url, script, scriptArgs = [], threads, connections, durationSeconds, timeoutSeconds = 5 } = options;
  const cmd = [
    "wrk",
    `-t${threads}`,
    `-c${connections}`,
    `-d${durationSeconds}s`,
    `--timeout`,
    `${timeoutSeconds}s`,
    "-s",
    join(WRK_DIR, script),
    url,
    ...(scriptArgs.length > 0 ? ["--", ...scriptArgs] : []),
  ];
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  const line = stdout.split("\n").find((text) => text.startsWith("WRK_JSON "));
  if (code !== 0 || line === undefined) {
    throw new Error(`wrk failed (exit ${code}): ${cmd.join(" ")}\n${stdout}\n${stderr}`);
  }
  const report = JSON.parse(line.slice("WRK_JSON ".length)) as WrkReport;
  const usage = proc.resourceUsage();
  const generatorCpuSeconds = usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6 : Number.NaN;
  const { connect, read, write, status, timeout } = report.errors;
  const statusLine = stdout.split("\n").find((text) => text.startsWith("WRK_STATUS "));
  return {
    ...(statusLine ? { statuses: JSON.parse(statusLine.slice("WRK_STATUS ".length)) as Record<string, number> } : {}),
    requests: report.requests,
    requestsPerSecond: report.requests / (report.duration_us / 1e6),
    p50Ms: report.latency_us.p50 / 1000,
    p99Ms: report.latency_us.p99 / 1000,
    maxMs: report.latency_us.max / 1000,
    errorStatus: status,
    socketErrors: connect + read + write + timeout,
    generatorCpuSeconds,
  };
}

interface WrkReport {
  requests: number;
  duration_us: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latency_us: { p50: number; p99: number; max: number };
}
