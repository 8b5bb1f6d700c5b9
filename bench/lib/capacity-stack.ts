/**
 * The whole production stack on free 127.0.0.1 ports for bench/capacity.ts: a
 * private redis-server, the api (SQLite in a temp dir), ws, price
 * (`PRICE_SOURCE=mock`, 100 ms ticks) and nginx in front with the production
 * site, each its own process so its CPU and socket bytes can be read apart.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderNginx } from "../../nginx/render.ts";
import { canConnect, freePort } from "../../test/support/ports.ts";
import { waitFor } from "../../test/support/wait.ts";
import { BENCH_SESSION_SECRET, LIMITS } from "./authed-bets.ts";
import { startRedis } from "./redis-server.ts";
import { answersOk, type ServerProcess, startServerProcess } from "./server-process.ts";
import { ROOT } from "./servers.ts";

/** The server processes the report is about, in the order it prints them. */
export const STACK_PARTS = ["api", "ws", "price", "redis", "nginx"] as const;
export type StackPart = (typeof STACK_PARTS)[number];

export interface CapacityStack {
  /** nginx: `http://127.0.0.1:<port>` */
  url: string;
  dir: string;
  pids: Record<StackPart, number>;
  /** Ports each part listens on (nginx: the site's). */
  ports: Record<StackPart, number>;
  /** Lines of warn level or worse in the services' logs and nginx's error log, for the report. */
  problems(): string[];
  stop(): Promise<void>;
}

export interface StackOptions {
  /** `source`: bun <service>/main.ts; `compiled`: dist/bin/<service> (scripts/build.sh first). */
  build: "source" | "compiled";
  /** Websockets nginx lets one address hold (production: 100; every simulated player comes from 127.0.0.1). */
  wsPerAddress: number;
  priceIntervalMs: number;
}

/**
 * Starts everything and waits until the API serves a priced grid.
 *
 * ```ts
 * const stack = await startCapacityStack({ build: "source", wsPerAddress: 20_000, priceIntervalMs: 100 });
 * try { await fetch(`${stack.url}/api/grid`); } finally { await stack.stop(); }
 * ```
 */
export async function startCapacityStack(options: StackOptions): Promise<CapacityStack> {
  const dir = mkdtempSync(join(tmpdir(), "tap-bench-capacity-"));
  const stoppers: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const one of stoppers.reverse()) await one().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const redis = await startRedis();
    stoppers.push(() => redis.stop());
    const [apiPort, wsPort, pricePort] = [await freePort(), await freePort(), await freePort()];
    const cmd = (name: string) => (options.build === "compiled" ? [join(ROOT, "dist", "bin", name)] : [process.execPath, join(ROOT, name, "main.ts")]);
    const start = async (name: "api" | "ws" | "price", port: number, env: Record<string, string>): Promise<ServerProcess> => {
      const server = await startServerProcess({
        label: name,
        cmd: cmd(name),
        cwd: ROOT,
        env: { PORT: String(port), REDIS_URL: redis.url, LOG_LEVEL: "info", ...env },
        logs: { kind: "file", path: join(dir, `${name}.log`) },
        ready: () => answersOk(`http://127.0.0.1:${port}/healthz`),
      });
      stoppers.push(() => server.stop(10_000));
      return server;
    };
    const price = await start("price", pricePort, { PRICE_SOURCE: "mock", PRICE_INTERVAL_MS: String(options.priceIntervalMs) });
    const api = await start("api", apiPort, { DB_PATH: join(dir, "capacity.db"), SESSION_SECRET: BENCH_SESSION_SECRET, ...LIMITS });
    const ws = await start("ws", wsPort, { SESSION_SECRET: BENCH_SESSION_SECRET, WS_MAX_CONNECTIONS: "100000" });
    const nginx = await startBenchNginx(join(dir, "nginx"), apiPort, wsPort, options.wsPerAddress);
    stoppers.push(() => nginx.stop());
    try {
      await waitFor("a priced grid through nginx", async () => (await fetch(`${nginx.url}/api/grid`)).status === 200, 30_000, 100);
    } catch (error) {
      const tail = (name: string) => readFileSync(join(dir, `${name}.log`), "utf8").trim().split("\n").slice(-5).join("\n    ");
      throw new Error(`${(error as Error).message}\n  api log:\n    ${tail("api")}\n  price log:\n    ${tail("price")}`);
    }
    return {
      url: nginx.url,
      dir,
      pids: { api: api.pid, ws: ws.pid, price: price.pid, redis: redis.pid, nginx: nginx.pid },
      ports: { api: apiPort, ws: wsPort, price: pricePort, redis: redis.port, nginx: nginx.port },
      problems: () => [
        ...(["api", "ws", "price"] as const).flatMap((name) => warnings(join(dir, `${name}.log`)).map((line) => `${name}: ${line}`)),
        ...nginx.errors().split("\n").filter(Boolean).map((line) => `nginx: ${line}`),
      ],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Distinct warn/error/fatal lines of a pino log (times and ids removed), at most 10. */
function warnings(path: string): string[] {
  let text = "";
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  const lines = text.split("\n").filter((line) => /"level":(40|50|60)|"level":"(warn|error|fatal)"/.test(line));
  const distinct = new Map<string, number>();
  for (const line of lines) {
    const key = line.replace(/"(time|request_id|req_id|pid|hostname|player_id|bet_id)":("[^"]*"|\d+),?/g, "").slice(0, 300);
    distinct.set(key, (distinct.get(key) ?? 0) + 1);
  }
  return [...distinct].slice(0, 10).map(([line, count]) => `${count}× ${line}`);
}

/**
 * nginx with the production site (nginx/tap-trading.conf, rendered as the
 * tests render it) and the production `events` settings deploy/install.sh
 * writes into Debian's nginx.conf: `worker_processes auto`,
 * `worker_connections 8192`, `worker_rlimit_nofile 20000`. One change to the
 * site: `limit_conn … 100` becomes `wsPerAddress`, because every simulated
 * player connects from 127.0.0.1.
 */
async function startBenchNginx(prefix: string, apiPort: number, wsPort: number, wsPerAddress: number) {
  const port = await freePort();
  const rendered = renderNginx({ prefix, port, host: "127.0.0.1", apiPort, wsPort });
  const confPath = join(rendered.prefix, "conf", "nginx.conf");
  const sitePath = join(rendered.prefix, "conf", "tap-trading.conf");
  const replaceOnce = (path: string, from: string, to: string) => {
    const text = readFileSync(path, "utf8");
    if (text.split(from).length !== 2) throw new Error(`${path}: expected "${from}" exactly once`);
    writeFileSync(path, text.replace(from, to));
  };
  replaceOnce(confPath, "worker_processes 1;", "worker_processes auto;\nworker_rlimit_nofile 20000;");
  replaceOnce(confPath, "worker_connections 1024;", "worker_connections 8192;");
  replaceOnce(sitePath, "limit_conn tap_trading_ws_per_address 100;", `limit_conn tap_trading_ws_per_address ${wsPerAddress};`);
  // The access log stays on: production writes one JSON line per request too.
  const check = Bun.spawnSync(rendered.testCommand, { stdout: "pipe", stderr: "pipe" });
  if (check.exitCode !== 0) throw new Error(`nginx -t failed:\n${check.stderr.toString()}`);
  const proc = Bun.spawn(rendered.command, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  let stderr = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) stderr += decoder.decode(chunk, { stream: true });
  })();
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await proc.exited;
    clearTimeout(timer);
  };
  try {
    await waitFor(`nginx listening on ${port}`, async () => {
      if (proc.exitCode !== null) throw new Error(`nginx exited with ${proc.exitCode}: ${stderr}`);
      return await canConnect(port);
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: rendered.url, port, pid: proc.pid, errors: () => stderr, stop };
}
