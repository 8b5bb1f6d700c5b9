/**
 * The whole production stack on free 127.0.0.1 ports for bench/capacity.ts: a
 * private redis-server, the api (SQLite in a temp dir, or a PostgreSQL
 * database of the run's own), ws, price (`PRICE_SOURCE=mock`, 100 ms ticks)
 * and nginx in front with the production site, each its own process so its
 * CPU and socket bytes can be read apart. With two nodes, two api and two ws
 * processes share the database, redis and SESSION_SECRET behind nginx.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderNginx } from "../../nginx/render.ts";
import { canConnect, freePort } from "../../test/support/ports.ts";
import { createTempDatabase, type TempDatabase } from "../../test/support/postgres.ts";
import { waitFor } from "../../test/support/wait.ts";
import { BENCH_SESSION_SECRET, LIMITS } from "./authed-bets.ts";
import { startRedis } from "./redis-server.ts";
import { answersOk, type ServerProcess, startServerProcess } from "./server-process.ts";
import { ROOT } from "./servers.ts";

/**
 * The server processes the report is about, in the order it prints them.
 *
 * ```ts
 * for (const part of STACK_PARTS) console.log(part, stack.pids[part]);
 * ```
 */
export const STACK_PARTS = ["api", "ws", "price", "redis", "nginx"] as const;
/**
 * One of STACK_PARTS.
 *
 * ```ts
 * const part: StackPart = "ws";
 * ```
 */
export type StackPart = (typeof STACK_PARTS)[number];

/**
 * A running stack: `pids` and `ports` list one entry per node (api and ws: one
 * or two; the others: one).
 *
 * ```ts
 * const stack: CapacityStack = await startCapacityStack({ build: "source", wsPerAddress: 20_000, priceIntervalMs: 1000 });
 * console.log(stack.pids.api.length, stack.database?.name);
 * ```
 */
export interface CapacityStack {
  /** nginx: `http://127.0.0.1:<port>` */
  url: string;
  dir: string;
  pids: Record<StackPart, number[]>;
  /** Ports each part listens on (nginx: the site's). */
  ports: Record<StackPart, number[]>;
  /** The run's own PostgreSQL database (`store: "postgres"`), dropped by `stop`. */
  database?: TempDatabase;
  /** Lines of warn level or worse in the services' logs and nginx's error log, for the report. */
  problems(): string[];
  stop(): Promise<void>;
}

/**
 * What to start.
 *
 * ```ts
 * const two: StackOptions = { build: "source", wsPerAddress: 20_000, priceIntervalMs: 1000, store: "postgres", nodes: 2 };
 * ```
 */
export interface StackOptions {
  /** `source`: bun <service>/main.ts; `compiled`: dist/bin/<service> (scripts/build.sh first). */
  build: "source" | "compiled";
  /** Websockets nginx lets one address hold (production: 100; every simulated player comes from 127.0.0.1). */
  wsPerAddress: number;
  priceIntervalMs: number;
  /** `sqlite` (default): a file in the temp dir; `postgres`: a database of its own on 127.0.0.1:5432 (test/support/postgres.ts). */
  store?: "sqlite" | "postgres";
  /** api and ws processes behind nginx (default 1); 2 needs `store: "postgres"`. */
  nodes?: 1 | 2;
  /** More settings for every api process (`--api-env`), e.g. `{ DB_SYNC: "normal" }`. */
  apiEnv?: Record<string, string>;
  /** More settings for every ws process (`--ws-env`), e.g. `{ WS_GRID_SPREAD_MS: "200" }`. */
  wsEnv?: Record<string, string>;
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
  const { store = "sqlite", nodes = 1 } = options;
  if (nodes > 1 && store !== "postgres") throw new RangeError(`${nodes} api nodes need the shared store: store "postgres", not "${store}"`);
  const dir = mkdtempSync(join(tmpdir(), "tap-bench-capacity-"));
  const stoppers: (() => Promise<unknown>)[] = [];
  let database: TempDatabase | undefined;
  const stop = async () => {
    for (const one of stoppers.reverse()) await one().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Pushed first so it is dropped last, after every api has let go of it.
    if (store === "postgres") {
      const created = await createTempDatabase("tap_capacity");
      database = created;
      stoppers.push(() => created.drop());
    }
    const redis = await startRedis();
    stoppers.push(() => redis.stop());
    const pricePort = await freePort();
    const cmd = (name: string) => (options.build === "compiled" ? [join(ROOT, "dist", "bin", name)] : [process.execPath, join(ROOT, name, "main.ts")]);
    const start = async (name: "api" | "ws" | "price", port: number, env: Record<string, string>, node = 1): Promise<ServerProcess> => {
      const server = await startServerProcess({
        label: node === 1 ? name : `${name}-${node}`,
        cmd: cmd(name),
        cwd: ROOT,
        env: { PORT: String(port), REDIS_URL: redis.url, LOG_LEVEL: "info", ...env },
        logs: { kind: "file", path: join(dir, logName(name, node)) },
        ready: () => answersOk(`http://127.0.0.1:${port}/healthz`),
      });
      stoppers.push(() => server.stop(10_000));
      return server;
    };
    const price = await start("price", pricePort, { PRICE_SOURCE: "mock", PRICE_INTERVAL_MS: String(options.priceIntervalMs) });
    const storeEnv: Record<string, string> = database ? { DATABASE_URL: database.url } : { DB_PATH: join(dir, "capacity.db") };
    const apis: ServerProcess[] = [];
    const apiPorts: number[] = [];
    for (let node = 1; node <= nodes; node++) {
      const port = await freePort();
      apis.push(await start("api", port, { ...storeEnv, SESSION_SECRET: BENCH_SESSION_SECRET, ...LIMITS, ...options.apiEnv }, node));
      apiPorts.push(port);
      // One node at a time: the first creates the schema and takes the settler lease before the next starts.
      await waitFor(`api ${node}'s priced grid`, async () => (await fetch(`http://127.0.0.1:${port}/api/grid`)).status === 200, 30_000, 100);
    }
    const wss: ServerProcess[] = [];
    const wsPorts: number[] = [];
    for (let node = 1; node <= nodes; node++) {
      const port = await freePort();
      wss.push(await start("ws", port, { SESSION_SECRET: BENCH_SESSION_SECRET, WS_MAX_CONNECTIONS: "100000", ...options.wsEnv }, node));
      wsPorts.push(port);
    }
    const nginx = await startBenchNginx(join(dir, "nginx"), apiPorts, wsPorts, options.wsPerAddress);
    stoppers.push(() => nginx.stop());
    try {
      await waitFor("a priced grid through nginx", async () => (await fetch(`${nginx.url}/api/grid`)).status === 200, 30_000, 100);
    } catch (error) {
      const tail = (name: string) => readFileSync(join(dir, logName(name, 1)), "utf8").trim().split("\n").slice(-5).join("\n    ");
      throw new Error(`${(error as Error).message}\n  api log:\n    ${tail("api")}\n  price log:\n    ${tail("price")}`);
    }
    const logs = [
      ...apis.map((_, i) => ["api", i + 1] as const),
      ...wss.map((_, i) => ["ws", i + 1] as const),
      ["price", 1] as const,
    ];
    return {
      url: nginx.url,
      dir,
      pids: { api: apis.map((one) => one.pid), ws: wss.map((one) => one.pid), price: [price.pid], redis: [redis.pid], nginx: [nginx.pid] },
      ports: { api: apiPorts, ws: wsPorts, price: [pricePort], redis: [redis.port], nginx: [nginx.port] },
      ...(database ? { database } : {}),
      problems: () => [
        ...logs.flatMap(([name, node]) => warnings(join(dir, logName(name, node))).map((line) => `${node === 1 ? name : `${name}-${node}`}: ${line}`)),
        ...nginx.errors().split("\n").filter(Boolean).map((line) => `nginx: ${line}`),
      ],
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `api.log` for the first node, `api-2.log` for the second. */
function logName(name: string, node: number): string {
  return node === 1 ? `${name}.log` : `${name}-${node}.log`;
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
async function startBenchNginx(prefix: string, apiPorts: number[], wsPorts: number[], wsPerAddress: number) {
  const port = await freePort();
  const nodes = (ports: number[]) => ports.map((one) => `127.0.0.1:${one}`);
  const rendered = renderNginx({ prefix, port, host: "127.0.0.1", apiUpstreams: nodes(apiPorts), wsUpstreams: nodes(wsPorts) });
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
