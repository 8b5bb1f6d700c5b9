import { join } from "node:path";
import { freePort } from "../../test/support/ports.ts";
import { BENCH_SESSION_SECRET, LIMITS } from "./authed-bets.ts";
import type { GoPeer } from "./go-peer.ts";
import type { BenchRedis } from "./redis-server.ts";
import { answersOk, type LogSink, type ServerProcess, startServerProcess } from "./server-process.ts";

/** The repository root (our services run from here). */
export const ROOT = join(import.meta.dir, "..", "..");

/** Which implementation of a service: our Bun one or the Go peer. */
export type Implementation = "ours" | "go";
export const IMPLEMENTATIONS: readonly Implementation[] = ["ours", "go"];

/** What starting a server needs. */
export interface ServerContext {
  redis: BenchRedis;
  /** Required to start a "go" server. */
  goPeer?: GoPeer | undefined;
  /** A private temp dir for this server's database and log file. */
  dir: string;
  /** `file` writes stdout+stderr to `<dir>/<service>.log` (closer to journald); `null` discards them. */
  logs: "file" | "null";
  /** Extra flags for our `bun` processes, e.g. ["--smol"] or ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"] (source only). */
  bunFlags?: string[];
  /**
   * How our ws runs: `source` is `bun ws/main.ts`; `compiled` is dist/bin/ws, the
   * standalone executable the production unit runs (the caller builds it first,
   * see `buildOurs`).
   */
  build?: Build;
  /** Added to our ws's environment (e.g. `WS_BACKPRESSURE_LIMIT_BYTES`); the Go peer ignores it. */
  env?: Record<string, string>;
}

/** Our service from its TypeScript source, or as the compiled executable that ships. */
export type Build = "source" | "compiled";
export const BUILDS: readonly Build[] = ["source", "compiled"];

/** `--build` checked against `--bun-flags`, which only a service run from source takes. */
export function buildOf(raw: string, bunFlags: readonly string[]): Build {
  if (!BUILDS.includes(raw as Build)) throw new RangeError(`--build must be ${BUILDS.join(" or ")}, not ${raw}`);
  if (raw === "compiled" && bunFlags.length > 0) throw new RangeError("--bun-flags needs --build source (a compiled ws takes no bun flags)");
  return raw as Build;
}

/** Where scripts/build.sh puts our compiled services. */
const OUR_BIN_DIR = join(ROOT, "dist", "bin");

/** Compiles our services into dist/bin (scripts/build.sh: only those older than their sources). */
export function buildOurs(...services: ("api" | "ws" | "price")[]): void {
  const built = Bun.spawnSync(["bash", join(ROOT, "scripts", "build.sh"), ...services], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`scripts/build.sh ${services.join(" ")} failed:\n${built.stderr.toString()}`);
}

export interface RunningServer extends ServerProcess {
  implementation: Implementation;
  port: number;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** Our API's SQLite file (undefined for the Go peer, which stores nothing). */
  dbPath?: string | undefined;
}

/**
 * Starts the HTTP API: ours (`bun api/main.ts`, LOG_LEVEL=info so every request
 * is logged) or the Go peer (`LOG_REQUESTS=1`: Echo's request logger on).
 * Resolves once `/healthz` answers 200.
 *
 * ```ts
 * await using api = await startApi("ours", { redis, dir, logs: "file" });
 * ```
 */
export async function startApi(implementation: Implementation, context: ServerContext): Promise<RunningServer> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const logs = logSink(context, "api");
  const dbPath = implementation === "ours" ? join(context.dir, "bets.db") : undefined;
  const common = { label: `${implementation} api`, logs, ready: () => answersOk(`${baseUrl}/healthz`) };
  const server =
    implementation === "ours"
      ? await startServerProcess({
          ...common,
          cmd: [process.execPath, ...(context.bunFlags ?? []), join(ROOT, "api", "main.ts")],
          cwd: ROOT,
          // Bets are authenticated: a session secret, and limits wide enough that the load is not refused.
          env: { PORT: String(port), REDIS_URL: context.redis.url, DB_PATH: dbPath!, LOG_LEVEL: "info", SESSION_SECRET: BENCH_SESSION_SECRET, ...LIMITS },
        })
      : await startServerProcess({
          ...common,
          cmd: [goPeerOf(context).api],
          env: { PORT: String(port), REDIS_ADDR: context.redis.addr, LOG_REQUESTS: "1" },
        });
  return Object.assign(server, { implementation, port, baseUrl, dbPath });
}

/**
 * Starts the websocket server: ours (`bun ws/main.ts`, or dist/bin/ws when
 * `context.build` is `compiled`) or the Go peer's `ws`.
 * Resolves once it accepts TCP connections; whether it has subscribed to Redis
 * yet is for the caller to check (PUBSUB NUMSUB).
 */
export async function startWs(implementation: Implementation, context: ServerContext): Promise<RunningServer> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const logs = logSink(context, "ws");
  const common = { label: `${implementation} ws`, logs, ready: () => answersOk(`${baseUrl}/healthz`) };
  const server =
    implementation === "ours"
      ? await startServerProcess({
          ...common,
          cmd: ourCommand("ws", context),
          cwd: ROOT,
          env: { PORT: String(port), REDIS_URL: context.redis.url, LOG_LEVEL: "info", ...context.env },
        })
      : await startServerProcess({
          ...common,
          cmd: [goPeerOf(context).ws],
          env: { PORT: String(port), REDIS_ADDR: context.redis.addr },
        });
  return Object.assign(server, { implementation, port, baseUrl, dbPath: undefined });
}

function ourCommand(service: "ws", context: ServerContext): string[] {
  if (context.build !== "compiled") return [process.execPath, ...(context.bunFlags ?? []), join(ROOT, service, "main.ts")];
  if ((context.bunFlags ?? []).length > 0) throw new TypeError("bun flags apply to a service run from source, not to a compiled one");
  return [join(OUR_BIN_DIR, service)];
}

function logSink(context: ServerContext, service: string): LogSink {
  return context.logs === "file" ? { kind: "file", path: join(context.dir, `${service}.log`) } : { kind: "null" };
}

function goPeerOf(context: ServerContext): GoPeer {
  if (!context.goPeer) throw new TypeError("a Go server was asked for but the Go peer was not built");
  return context.goPeer;
}
