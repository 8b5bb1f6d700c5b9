/**
 * The bets target: authenticated, priced, durable bets at ≥ 20,000 accepted/s
 * with p99 under 20 ms, 64 connections, on this machine, the generator's own
 * cost named.
 *
 *   bun bench/bets.ts [--rounds 3] [--duration 10] [--warmup 2] [--connections 64] [--threads 1]
 *                     [--sessions 1000] [--batch-delay-ms 0] [--logs file|null]
 *                     [--quiet-wait 60] [--quiet-below 15] [--bun-flags=…] [--json out.json]
 *                     [--scrape-ms 0 | 1000 | 0,1000] [--db-sync full | normal | normal,full] [--api-env KEY=VALUE,…]
 *                     [--store sqlite | postgres | sqlite,postgres]
 *
 * Per round: a private redis-server and a constant-price tick feed (a tick on
 * `prices:btc:usd` and `price:btc:usd` every 200 ms), a fresh API with a temp
 * database and limits wide enough that the run measures throughput, not
 * refusals; `--sessions` guest sessions; then wrk posting bets that rotate over
 * the tokens and the grid's open cells (t_start ≥ 30 s ahead, so none locks
 * during the run). Reports 202s per second, every other answer by status,
 * p50/p99, server and wrk CPU, and after the API stopped: rows in SQLite and
 * the ledger's consistency. See bench/README.md.
 *
 * `--scrape-ms 1000` scrapes the API's GET /metrics every second during the
 * measured run, as Prometheus would; a list (`0,1000`) alternates the values
 * round by round and compares their medians (issue 15: a scrape a second must
 * cost the bets less than 2 %).
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { createTempDatabase, type TempDatabase } from "../test/support/postgres.ts";
import { BENCH_SESSION_SECRET, createSessions, LIMITS, startTickFeed, writeRequests } from "./lib/authed-bets.ts";
import { freePort } from "../test/support/ports.ts";
import { parseApiEnv } from "./lib/api-env.ts";
import { describeMachine } from "./lib/machine.ts";
import { readMemory, startCpuMeter } from "./lib/proc-stats.ts";
import { type Quiet, waitForQuiet } from "./lib/quiet.ts";
import { startRedis } from "./lib/redis-server.ts";
import { answersOk, startServerProcess } from "./lib/server-process.ts";
import { ROOT } from "./lib/servers.ts";
import { median } from "./lib/stats.ts";
import { formatNumber, formatTable } from "./lib/table.ts";
import { runWrk, type WrkResult } from "./lib/wrk.ts";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "64" },
    threads: { type: "string", default: "1" },
    sessions: { type: "string", default: "1000" },
    "batch-delay-ms": { type: "string", default: "0" },
    logs: { type: "string", default: "file" },
    "bun-flags": { type: "string", default: "" },
    "quiet-wait": { type: "string", default: "60" },
    "quiet-below": { type: "string", default: "15" },
    json: { type: "string" },
    "scrape-ms": { type: "string", default: "0" },
    "db-sync": { type: "string", default: "full" },
    "api-env": { type: "string", default: "" },
    store: { type: "string", default: "sqlite" },
  },
});
const int = (name: string, raw: string, min = 1) => {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new RangeError(`--${name} must be an integer ≥ ${min}, not ${raw}`);
  return value;
};
const rounds = int("rounds", args.rounds);
const durationSeconds = int("duration", args.duration);
const warmupSeconds = int("warmup", args.warmup, 0);
const connections = int("connections", args.connections);
const threads = int("threads", args.threads);
const sessionCount = int("sessions", args.sessions);
const batchDelayMs = int("batch-delay-ms", args["batch-delay-ms"], 0);
const scrapeEvery = args["scrape-ms"].split(",").map((raw) => int("scrape-ms", raw.trim(), 0));
// More settings for the API, e.g. QUOTE_HORIZON_MS=0 (a comparison runs the bench once per setting).
const apiEnv = parseApiEnv(args["api-env"]);
// DB_SYNC for the API, alternating round by round when several are given (issue 17: what fsync per commit costs).
// PostgreSQL: a database of the round's own on 127.0.0.1:5432 (PG_ADMIN_URL), created and dropped (test/support/postgres.ts).
const stores = args.store.split(",").map((raw) => {
  const value = raw.trim();
  if (value !== "sqlite" && value !== "postgres") throw new RangeError(`--store takes sqlite or postgres, not ${raw}`);
  return value;
});
const dbSyncs = args["db-sync"].split(",").map((raw) => {
  const value = raw.trim();
  if (value !== "full" && value !== "normal") throw new RangeError(`--db-sync takes full or normal, not ${raw}`);
  return value;
});
if (args.logs !== "file" && args.logs !== "null") throw new RangeError(`--logs must be file or null, not ${args.logs}`);
const logs = args.logs;
const bunFlags = args["bun-flags"].split(/\s+/).filter(Boolean);
const quietWaitSeconds = Number(args["quiet-wait"]);
const quietBelowPercent = Number(args["quiet-below"]);
const cores = navigator.hardwareConcurrency;
const DISTURBED_PERCENT = 30;
const TARGET = { acceptedPerSecond: 20_000, p99Ms: 20 };
/** The scrapes of GET /metrics during a run. */
interface Scrapes {
  everyMs: number;
  count: number;
  failed: number;
  p50Ms: number;
  maxMs: number;
  bytes: number;
}
interface Run {
  round: number;
  scrapes: Scrapes;
  wrk: WrkResult;
  accepted: number;
  acceptedPerSecond: number;
  refusals: Record<string, number>;
  serverCpuPercent: number;
  generatorCpuPercent: number;
  redisCpuPercent: number;
  machineBusyPercent: number;
  otherCpuPercent: number;
  before: Quiet;
  peakRssMb: number;
  cells: number;
  /** After the API stopped. */
  store: StoreCheck;
  storeKind: "sqlite" | "postgres";
  /** 202s over the whole life of the server (pre-flight, warm-up, run). */
  acceptedTotal: number;
}

console.log(describeMachine());
console.log(
  `load:    wrk -t${threads} -c${connections} -d${durationSeconds}s (after ${warmupSeconds}s warm-up), ${rounds} round(s), ${sessionCount} sessions, ` +
    `BATCH_DELAY_MS=${batchDelayMs}, logs to ${logs === "file" ? "a file" : "/dev/null"}, LOG_LEVEL=info;\n` +
    `         each run waits up to ${quietWaitSeconds} s for the machine to be ≤ ${quietBelowPercent}% busy first${bunFlags.length > 0 ? `; bun ${bunFlags.join(" ")}` : ""};\n` +
    `         GET /metrics during the measured run: ${scrapeEvery.map((ms) => (ms === 0 ? "none" : `every ${ms} ms`)).join(", then ")}${scrapeEvery.length > 1 ? " (alternating round by round)" : ""}\n` +
    `         ${Object.keys(apiEnv).length > 0 ? `API settings ${JSON.stringify(apiEnv)}; ` : ""}DB_SYNC=${dbSyncs.join(", then ")}${dbSyncs.length > 1 ? " (alternating round by round)" : ""}\n` +
    `         store: ${stores.join(", then ")}${stores.length > 1 ? " (alternating round by round)" : ""}${stores.includes("postgres") ? " (PostgreSQL's own CPU shows under other CPU)" : ""}\n`,
);

const runs: Run[] = [];
for (let round = 1; round <= rounds; round++) {
  const dir = mkdtempSync(join(tmpdir(), "tap-bench-bets-"));
  try {
    const run = await measure(round, dir, scrapeEvery[(round - 1) % scrapeEvery.length]!, stores[(round - 1) % stores.length]!);
    runs.push(run);
    console.log(describeRun(run));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
printRuns(runs);
printSummary(runs);
if (args.json) await Bun.write(args.json, JSON.stringify({ machine: describeMachine(), args, runs }, null, 2));

/** Scrapes `url` every `everyMs` (none at 0) until stopped, one at a time, as Prometheus does. */
function startScraper(url: string, everyMs: number) {
  const times: number[] = [];
  let failed = 0;
  let bytes = 0;
  let inFlight: Promise<void> | undefined;
  const scrape = async () => {
    const started = performance.now();
    try {
      const response = await fetch(url);
      const text = await response.text();
      if (response.status !== 200) failed++;
      else {
        times.push(performance.now() - started);
        bytes = text.length;
      }
    } catch {
      failed++;
    }
  };
  const timer = everyMs > 0 ? setInterval(() => void (inFlight ??= scrape().finally(() => (inFlight = undefined))), everyMs) : undefined;
  return {
    async stop(): Promise<Scrapes> {
      clearInterval(timer);
      await inFlight;
      const sorted = [...times].sort((a, b) => a - b);
      return { everyMs, count: times.length, failed, p50Ms: median(times), maxMs: sorted.at(-1) ?? Number.NaN, bytes };
    },
  };
}

async function measure(round: number, dir: string, scrapeMs: number, store: "sqlite" | "postgres"): Promise<Run> {
  await using redis = await startRedis();
  await using feed = startTickFeed(redis.url);
  await feed.first;
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const dbPath = join(dir, "bets.db");
  const database: TempDatabase | undefined = store === "postgres" ? await createTempDatabase("tap_bench") : undefined;
  const server = await startServerProcess({
    label: "ours api",
    cmd: [process.execPath, ...bunFlags, join(ROOT, "api", "main.ts")],
    cwd: ROOT,
    env: {
      PORT: String(port),
      REDIS_URL: redis.url,
      DB_PATH: dbPath,
      LOG_LEVEL: "info",
      SESSION_SECRET: BENCH_SESSION_SECRET,
      BATCH_DELAY_MS: String(batchDelayMs),
      DB_SYNC: dbSyncs[(round - 1) % dbSyncs.length]!,
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...apiEnv,
      ...LIMITS,
    },
    logs: logs === "file" ? { kind: "file", path: join(dir, "api.log") } : { kind: "null" },
    ready: () => answersOk(`${baseUrl}/healthz`),
  });
  try {
    const before = quietWaitSeconds > 0 ? await waitForQuiet({ maxBusyPercent: quietBelowPercent, maxWaitSeconds: quietWaitSeconds }) : { quiet: true, busyPercent: Number.NaN, waitedSeconds: 0 };
    const tokens = await createSessions(baseUrl, sessionCount);
    const requestsFile = join(dir, "requests.txt");
    // Cells are picked after the wait for quiet, so they are still ≥ 30 s ahead when the load starts.
    const cells = await writeRequests(baseUrl, tokens, requestsFile);
    const wrkOptions = { url: `${baseUrl}/api/bets`, script: "auth-bets.lua", scriptArgs: [requestsFile], threads, connections };
    const warmup = warmupSeconds > 0 ? await runWrk({ ...wrkOptions, durationSeconds: warmupSeconds }) : undefined;
    const meter = startCpuMeter({ server: server.pid, redis: redis.pid });
    const scraper = startScraper(`${baseUrl}/metrics`, scrapeMs);
    const wrk = await runWrk({ ...wrkOptions, durationSeconds });
    const scrapes = await scraper.stop();
    const cpu = meter.stop();
    const peakRssMb = readMemory(server.pid).peakKb / 1024;
    const exit = await server.stop(20_000);
    if (exit !== 0) throw new Error(`the API exited with ${exit} at SIGTERM`);
    const statuses = wrk.statuses ?? {};
    if (logs === "file" && Object.keys(statuses).some((status) => status >= "500")) showServerErrors(join(dir, "api.log"));
    const accepted = statuses["202"] ?? 0;
    const refusals = Object.fromEntries(Object.entries(statuses).filter(([status]) => status !== "202"));
    const generatorCpuPercent = (wrk.generatorCpuSeconds / cpu.wallSeconds) * 100;
    return {
      round,
      scrapes,
      wrk,
      accepted,
      acceptedPerSecond: accepted / cpu.wallSeconds,
      refusals,
      serverCpuPercent: cpu.percentOfCore.server,
      redisCpuPercent: cpu.percentOfCore.redis,
      generatorCpuPercent,
      machineBusyPercent: cpu.machineBusyPercent,
      otherCpuPercent: cpu.machineBusyPercent * cores - cpu.percentOfCore.server - cpu.percentOfCore.redis - generatorCpuPercent,
      before: before as Quiet,
      peakRssMb,
      cells,
      store: database ? await checkPostgres(database.url) : checkStore(dbPath),
      storeKind: store,
      acceptedTotal: accepted + 1 + (warmup?.statuses?.["202"] ?? 0),
    };
  } finally {
    await server.stop();
    await database?.drop();
  }
}

/** Prints the first few distinct error lines of the server's log: a 5xx in a benchmark needs its cause in the output. */
function showServerErrors(path: string): void {
  const lines = readFileSync(path, "utf8").split("\n");
  const errors = [...new Set(lines.filter((line) => /"level":"(error|fatal)"/.test(line)).map((line) => line.replace(/"(time|request_id|req_id)":"[^"]*",?/g, "")))];
  console.log(`server errors (${errors.length} distinct):\n${errors.slice(0, 5).join("\n")}`);
}

interface StoreCheck {
  bets: number;
  stakes: number;
  /** Players whose balance is not the sum of their ledger. */
  unbalancedPlayers: number;
  /** Bets without exactly their stake in the ledger. */
  betsWithoutStake: number;
  negativeBalances: number;
  integrity: string;
}

function checkStore(dbPath: string): StoreCheck {
  const db = new Database(dbPath, { readonly: true });
  try {
    const one = <T>(sql: string) => db.query(sql).get() as T;
    return {
      bets: one<{ n: number }>("SELECT count(*) AS n FROM bets").n,
      stakes: one<{ n: number }>("SELECT count(*) AS n FROM ledger WHERE kind = 'stake'").n,
      unbalancedPlayers: one<{ n: number }>(
        "SELECT count(*) AS n FROM players p WHERE p.balance_cents != (SELECT coalesce(sum(amount_cents), 0) FROM ledger l WHERE l.player_id = p.id)",
      ).n,
      betsWithoutStake: one<{ n: number }>(
        "SELECT count(*) AS n FROM bets b LEFT JOIN ledger l ON l.bet_id = b.id AND l.kind = 'stake' WHERE l.id IS NULL OR l.amount_cents != -b.stake_cents",
      ).n,
      negativeBalances: one<{ n: number }>("SELECT count(*) AS n FROM players WHERE balance_cents < 0").n,
      integrity: one<{ quick_check: string }>("PRAGMA quick_check").quick_check,
    };
  } finally {
    db.close();
  }
}

/** The same checks on PostgreSQL; `integrity` is "ok" (PostgreSQL has no quick_check: its constraints hold or the writes failed). */
async function checkPostgres(url: string): Promise<StoreCheck> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const one = async (query: string) => Number((await sql.unsafe(query))[0]!.n);
    return {
      bets: await one("SELECT count(*) AS n FROM bets"),
      stakes: await one("SELECT count(*) AS n FROM ledger WHERE kind = 'stake'"),
      unbalancedPlayers: await one("SELECT count(*) AS n FROM players p WHERE p.balance_cents != (SELECT coalesce(sum(amount_cents), 0) FROM ledger l WHERE l.player_id = p.id)"),
      betsWithoutStake: await one(
        "SELECT count(*) AS n FROM bets b LEFT JOIN ledger l ON l.bet_id = b.id AND l.kind = 'stake' WHERE l.id IS NULL OR l.amount_cents != -b.stake_cents",
      ),
      negativeBalances: await one("SELECT count(*) AS n FROM players WHERE balance_cents < 0"),
      integrity: "ok",
    };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

function ledgerOk(run: Run): boolean {
  return run.store.unbalancedPlayers === 0 &&
  run.store.betsWithoutStake === 0 &&
  run.store.negativeBalances === 0 &&
  run.store.stakes === run.store.bets &&
  run.store.bets >= run.acceptedTotal &&
  run.store.integrity === "ok";
}

function refusalText(refusals: Record<string, number>): string {
  return Object.keys(refusals).length === 0 ? "none" : Object.entries(refusals).map(([status, count]) => `${status}×${count}`).join(" ");
}

function scrapeText(scrapes: Scrapes): string {
  if (scrapes.everyMs === 0) return "no scrape";
  return `scrape/${scrapes.everyMs} ms: ${scrapes.count}× p50 ${scrapes.p50Ms.toFixed(1)} ms max ${scrapes.maxMs.toFixed(1)} ms ${formatNumber(scrapes.bytes)} B${scrapes.failed > 0 ? ` FAILED ${scrapes.failed}` : ""}`;
}

function describeRun(run: Run): string {
  return (
    `round ${run.round}  ${run.storeKind}  DB_SYNC=${dbSyncs[(run.round - 1) % dbSyncs.length]}  ${scrapeText(run.scrapes)}  ${formatNumber(run.acceptedPerSecond).padStart(7)} accepted/s  p50 ${run.wrk.p50Ms.toFixed(2)} ms  p99 ${run.wrk.p99Ms.toFixed(2)} ms  ` +
    `non-202 ${refusalText(run.refusals)}  socket errors ${run.wrk.socketErrors}  server CPU ${run.serverCpuPercent.toFixed(0)}%  ` +
    `wrk CPU ${run.generatorCpuPercent.toFixed(0)}%  other CPU ${run.otherCpuPercent.toFixed(0)}%  ledger ${ledgerOk(run) ? "ok" : "INCONSISTENT"}` +
    (run.before.quiet ? "" : `  (machine ${run.before.busyPercent.toFixed(0)}% busy before the run)`)
  );
}

function printRuns(all: Run[]): void {
  console.log("\nEvery run:\n");
  const rows = all.map((run) => ({
    round: String(run.round),
    store: run.storeKind,
    scrape: run.scrapes.everyMs === 0 ? "none" : `${run.scrapes.everyMs} ms (${run.scrapes.count}×, p50 ${run.scrapes.p50Ms.toFixed(1)} ms)`,
    "accepted/s": formatNumber(run.acceptedPerSecond),
    "p50 ms": run.wrk.p50Ms.toFixed(2),
    "p99 ms": run.wrk.p99Ms.toFixed(2),
    "max ms": run.wrk.maxMs.toFixed(1),
    "non-202": refusalText(run.refusals),
    "sock err": formatNumber(run.wrk.socketErrors),
    "server CPU": `${run.serverCpuPercent.toFixed(0)}%`,
    "µs CPU/bet": ((run.serverCpuPercent / 100 / run.acceptedPerSecond) * 1e6).toFixed(1),
    "wrk CPU": `${run.generatorCpuPercent.toFixed(0)}%`,
    "redis CPU": `${run.redisCpuPercent.toFixed(0)}%`,
    "machine busy": `${run.machineBusyPercent.toFixed(0)}%`,
    "other CPU": `${run.otherCpuPercent.toFixed(0)}%${run.otherCpuPercent > DISTURBED_PERCENT ? " *" : ""}`,
    "peak RSS MB": run.peakRssMb.toFixed(0),
    cells: String(run.cells),
    "rows (bets)": formatNumber(run.store.bets),
    "202 answered": formatNumber(run.acceptedTotal),
    ledger: ledgerOk(run) ? "ok" : JSON.stringify(run.store),
  }));
  console.log(formatTable(Object.keys(rows[0] ?? {}), rows));
}

/** With more than one scrape setting: each one's medians, and what scraping cost against no scrape. */
function printScrapeComparison(all: Run[]): void {
  const settings = [...new Set(all.map((run) => run.scrapes.everyMs))];
  if (settings.length < 2) return;
  const of = (everyMs: number) => {
    const runs = all.filter((run) => run.scrapes.everyMs === everyMs);
    return {
      runs: runs.length,
      accepted: median(runs.map((run) => run.acceptedPerSecond)),
      p99: median(runs.map((run) => run.wrk.p99Ms)),
      cpuPerBetUs: median(runs.map((run) => (run.serverCpuPercent / 100 / run.acceptedPerSecond) * 1e6)),
    };
  };
  const base = of(settings.includes(0) ? 0 : settings[0]!);
  console.log("\nBy scrape setting (medians):");
  for (const everyMs of settings) {
    const one = of(everyMs);
    const change = (value: number, reference: number) => `${value >= reference ? "+" : ""}${(((value - reference) / reference) * 100).toFixed(1)} %`;
    console.log(
      `  ${everyMs === 0 ? "no scrape      " : `scrape/${everyMs} ms`.padEnd(15)} ${one.runs} run(s): ${formatNumber(one.accepted)} accepted/s (${change(one.accepted, base.accepted)}), ` +
        `p99 ${one.p99.toFixed(2)} ms, ${one.cpuPerBetUs.toFixed(1)} µs CPU/bet (${change(one.cpuPerBetUs, base.cpuPerBetUs)})`,
    );
  }
}

/** With both stores: each one's medians, and PostgreSQL's accepted/s as a share of SQLite's (issue 17: at least 70 %). */
function printStoreComparison(all: Run[]): void {
  const kinds = [...new Set(all.map((run) => run.storeKind))];
  if (kinds.length < 2) return;
  const of = (kind: string) => {
    const runs = all.filter((run) => run.storeKind === kind);
    return { runs: runs.length, accepted: median(runs.map((run) => run.acceptedPerSecond)), p99: median(runs.map((run) => run.wrk.p99Ms)) };
  };
  console.log("\nBy store (medians):");
  for (const kind of kinds) {
    const one = of(kind);
    console.log(`  ${kind.padEnd(9)} ${one.runs} run(s): ${formatNumber(one.accepted)} accepted/s, p99 ${one.p99.toFixed(2)} ms`);
  }
  const share = of("postgres").accepted / of("sqlite").accepted;
  console.log(`  PostgreSQL at ${(share * 100).toFixed(0)} % of SQLite's accepted/s (target ≥ 70 %): ${share >= 0.7 ? "MET" : "MISSED"}`);
}

function printSummary(all: Run[]): void {
  printScrapeComparison(all);
  printStoreComparison(all);
  const accepted = median(all.map((run) => run.acceptedPerSecond));
  const p99 = median(all.map((run) => run.wrk.p99Ms));
  const wrkCpu = median(all.map((run) => run.generatorCpuPercent));
  const serverCpu = median(all.map((run) => run.serverCpuPercent));
  console.log(
    `\nMedians over ${all.length} run(s): ${formatNumber(accepted)} accepted/s, p50 ${median(all.map((run) => run.wrk.p50Ms)).toFixed(2)} ms, ` +
      `p99 ${p99.toFixed(2)} ms, server CPU ${serverCpu.toFixed(0)}%, wrk CPU ${wrkCpu.toFixed(0)}% (CPU in % of one core, ${cores * 100}% = all cores)`,
  );
  const met = accepted >= TARGET.acceptedPerSecond && p99 < TARGET.p99Ms;
  console.log(
    `${met ? "MET   " : "MISSED"} ≥ ${formatNumber(TARGET.acceptedPerSecond)} accepted/s with p99 < ${TARGET.p99Ms} ms: ${formatNumber(accepted)}/s, p99 ${p99.toFixed(2)} ms ` +
      `(best: ${formatNumber(Math.max(...all.map((run) => run.acceptedPerSecond)))}/s)`,
  );
  console.log(`${all.every(ledgerOk) ? "OK    " : "FAILED"} every 202 is a row, every bet has its stake, every balance equals its ledger, none negative`);
  console.log(
    `The load generator costs ${wrkCpu.toFixed(0)}% of a core (one wrk thread${wrkCpu >= 85 ? ": AT ITS LIMIT, the generator may be the bottleneck" : ", not saturated"}); ` +
      `server + wrk + redis use ${median(all.map((run) => run.serverCpuPercent + run.generatorCpuPercent + run.redisCpuPercent)).toFixed(0)}% of ${cores * 100}%.`,
  );
}
