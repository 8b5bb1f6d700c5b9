/**
 * HTTP API benchmark: our Bun API against the Go peer, side by side in one run.
 *
 *   bun bench/http.ts [--rounds 3] [--duration 10] [--warmup 2] [--connections 64] [--threads 1]
 *                     [--only healthz,bets] [--servers ours,go] [--logs file|null]
 *                     [--quiet-wait 60] [--quiet-below 15] [--bun-flags=--smol] [--json out.json]
 *
 * For each round and endpoint, starts a fresh server of each implementation
 * (alternating which goes first), waits for the machine to be quiet, checks one
 * request answers 2xx, warms up, then runs wrk and samples the server's CPU and peak RSS. Prints every run,
 * then the medians with the ratio ours/Go and the targets. See bench/README.md.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createSessions, startTickFeed, writeRequests } from "./lib/authed-bets.ts";
import { buildGoPeer, type GoPeer } from "./lib/go-peer.ts";
import { describeMachine } from "./lib/machine.ts";
import { readMemory, startCpuMeter } from "./lib/proc-stats.ts";
import { type Quiet, waitForQuiet } from "./lib/quiet.ts";
import { startRedis } from "./lib/redis-server.ts";
import { listOf, positiveInt } from "./lib/args.ts";
import { IMPLEMENTATIONS, type Implementation, type RunningServer, startApi } from "./lib/servers.ts";
import { median } from "./lib/stats.ts";
import { formatNumber, formatRatio, formatTable } from "./lib/table.ts";
import { runWrk, type WrkResult } from "./lib/wrk.ts";

type Endpoint = "healthz" | "bets";
const ENDPOINTS: readonly Endpoint[] = ["healthz", "bets"];

/** What each endpoint's target asks of ours / Go's median req/s. */
const TARGETS: Record<Endpoint, { ratio: number; text: string }> = {
  healthz: { ratio: 1.2, text: "ours ≥ 1.2× Go (both logging every request)" },
  bets: { ratio: 1.0, text: "ours (authenticated, priced, stored in SQLite) ≥ Go stub (stores nothing)" },
};

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "64" },
    threads: { type: "string", default: "1" },
    only: { type: "string", default: ENDPOINTS.join(",") },
    servers: { type: "string", default: IMPLEMENTATIONS.join(",") },
    logs: { type: "string", default: "file" },
    "bun-flags": { type: "string", default: "" },
    "quiet-wait": { type: "string", default: "60" },
    "quiet-below": { type: "string", default: "15" },
    json: { type: "string" },
  },
});
const rounds = positiveInt("rounds", args.rounds);
const durationSeconds = positiveInt("duration", args.duration);
const warmupSeconds = Number(args.warmup);
const connections = positiveInt("connections", args.connections);
const threads = positiveInt("threads", args.threads);
const endpoints = listOf("only", args.only, ENDPOINTS);
const implementations = listOf("servers", args.servers, IMPLEMENTATIONS);
if (args.logs !== "file" && args.logs !== "null") throw new RangeError(`--logs must be file or null, not ${args.logs}`);
const logs = args.logs;
const quietWaitSeconds = Number(args["quiet-wait"]);
/** Extra flags for our bun processes (e.g. --bun-flags=--smol, or --bun-flags="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile). */
const bunFlags = args["bun-flags"].split(/\s+/).filter(Boolean);
const quietBelowPercent = Number(args["quiet-below"]);
const cores = navigator.hardwareConcurrency;
/** CPU charged to neither the server nor wrk above this (% of one core) marks a run as disturbed. */
const DISTURBED_PERCENT = 30;

/** The Go stub's bet window for the whole run: an hour ahead, 5 s long (ours bets on its grid's open cells instead). */
const tStart = Math.ceil((Date.now() + 3_600_000) / 5_000) * 5_000;
const tEnd = tStart + 5_000;
const goBetBody = JSON.stringify({ user_id: "bench-preflight", amount: 10.5, cell: { t_start: tStart, t_end: tEnd, price_low: 42000, price_high: 42010 } });
/** Guest sessions our bets rotate over, as in bets.ts. */
const SESSIONS = 1000;

interface Run {
  round: number;
  endpoint: Endpoint;
  implementation: Implementation;
  wrk: WrkResult;
  warmupRequests: number;
  serverCpuPercent: number;
  generatorCpuPercent: number;
  machineBusyPercent: number;
  /** Machine-wide softirq (the kernel network stack), % of one core; mostly charged to the running process too (tick accounting). */
  softirqPercent: number;
  /** Machine CPU charged to neither the server nor wrk (% of one core): anything else running. */
  otherCpuPercent: number;
  /** How busy the machine was just before the run. */
  before: Quiet;
  peakRssMb: number;
  /** Lines the server wrote to its log during the whole life of the process (request logging check). */
  logLines?: number | undefined;
  /** Rows in our `bets` table after the run (ours only). */
  storedBets?: number | undefined;
}

console.log(describeMachine());
console.log(
  `load:    wrk -t${threads} -c${connections} -d${durationSeconds}s (after ${warmupSeconds}s warm-up), ${rounds} round(s), ` +
    `fresh server per run, logs to ${logs === "file" ? "a file" : "/dev/null"}; ours LOG_LEVEL=info, Go LOG_REQUESTS=1;\n` +
    `         each run waits up to ${quietWaitSeconds} s for the machine to be ≤ ${quietBelowPercent}% busy first${bunFlags.length > 0 ? `; ours run as bun ${bunFlags.join(" ")}` : ""}\n`,
);

const goPeer: GoPeer | undefined = implementations.includes("go") ? buildGoPeer() : undefined;
const runs: Run[] = [];
try {
  await using redis = await startRedis();
  for (let round = 1; round <= rounds; round++) {
    for (const endpoint of endpoints) {
      // Alternate who goes first so slow drift (heat, page cache) does not favour one side.
      const order = round % 2 === 1 ? implementations : [...implementations].reverse();
      for (const implementation of order) {
        const dir = mkdtempSync(join(tmpdir(), `tap-bench-http-${implementation}-`));
        try {
          const run = await measure({ round, endpoint, implementation, dir, redisUrl: redis.url, server: await startApi(implementation, { redis, goPeer, dir, logs, bunFlags }) });
          runs.push(run);
          console.log(describeRun(run));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  }
} finally {
  goPeer?.remove();
}

printRuns(runs);
printSummary(runs);
if (args.json) await Bun.write(args.json, JSON.stringify({ machine: describeMachine(), args, runs }, null, 2));

async function measure(options: {
  round: number;
  endpoint: Endpoint;
  implementation: Implementation;
  dir: string;
  redisUrl: string;
  server: RunningServer;
}): Promise<Run> {
  const { round, endpoint, implementation, server } = options;
  // Our bets are authenticated and priced: a price feed, sessions, and requests over the grid's open cells.
  await using feed = endpoint === "bets" && implementation === "ours" ? startTickFeed(options.redisUrl) : undefined;
  try {
    const before = quietWaitSeconds > 0 ? await waitForQuiet({ maxBusyPercent: quietBelowPercent, maxWaitSeconds: quietWaitSeconds }) : notWaited();
    let script = endpoint === "healthz" ? "healthz.lua" : "bets.lua";
    let scriptArgs = endpoint === "bets" ? [String(tStart), String(tEnd)] : [];
    if (feed) {
      await feed.first;
      const requestsFile = join(options.dir, "requests.txt");
      // writeRequests checks one bet answers 202 (its pre-flight).
      await writeRequests(server.baseUrl, await createSessions(server.baseUrl, SESSIONS), requestsFile);
      script = "auth-bets.lua";
      scriptArgs = [requestsFile];
    } else {
      await preflight(endpoint, server);
    }
    const wrkOptions = { url: `${server.baseUrl}${endpoint === "healthz" ? "/healthz" : "/api/bets"}`, script, scriptArgs, threads, connections };
    const warmup = warmupSeconds > 0 ? await runWrk({ ...wrkOptions, durationSeconds: warmupSeconds }) : undefined;
    const meter = startCpuMeter({ server: server.pid });
    const wrk = await runWrk({ ...wrkOptions, durationSeconds });
    const cpu = meter.stop();
    const generatorCpuPercent = (wrk.generatorCpuSeconds / cpu.wallSeconds) * 100;
    const memory = readMemory(server.pid);
    const logLines = server.logs.kind === "file" ? await countLines(server.logs.path) : undefined;
    await server.stop();
    return {
      round,
      endpoint,
      implementation,
      wrk,
      warmupRequests: warmup?.requests ?? 0,
      serverCpuPercent: cpu.percentOfCore.server,
      generatorCpuPercent,
      machineBusyPercent: cpu.machineBusyPercent,
      softirqPercent: cpu.softirqPercentOfCore,
      otherCpuPercent: cpu.machineBusyPercent * cores - cpu.percentOfCore.server - generatorCpuPercent,
      before,
      peakRssMb: memory.peakKb / 1024,
      logLines,
      storedBets: server.dbPath && endpoint === "bets" ? countBets(server.dbPath) : undefined,
    };
  } finally {
    await server.stop();
  }
}

/** A benchmark of error responses is worthless: one request must answer 2xx before the load starts. */
async function preflight(endpoint: Endpoint, server: RunningServer): Promise<void> {
  const response =
    endpoint === "healthz"
      ? await fetch(`${server.baseUrl}/healthz`)
      : await fetch(`${server.baseUrl}/api/bets`, { method: "POST", headers: { "content-type": "application/json" }, body: goBetBody });
  const text = await response.text();
  if (response.status < 200 || response.status > 299) {
    throw new Error(`${server.label}: ${endpoint} pre-flight answered ${response.status}, not 2xx: ${text.slice(0, 300)}`);
  }
}

function countBets(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.query("SELECT count(*) AS n FROM bets").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function countLines(path: string): Promise<number> {
  const out = Bun.spawnSync(["wc", "-l", path], { stdout: "pipe" });
  return Number(out.stdout.toString().trim().split(/\s+/)[0]);
}

function describeRun(run: Run): string {
  const flag = run.wrk.errorStatus + run.wrk.socketErrors > 0 ? `  !! ${run.wrk.errorStatus} status≥400, ${run.wrk.socketErrors} socket errors` : "";
  return (
    `round ${run.round} ${run.endpoint.padEnd(7)} ${run.implementation.padEnd(4)} ` +
    `${formatNumber(run.wrk.requestsPerSecond).padStart(7)} req/s  p99 ${run.wrk.p99Ms.toFixed(2)} ms  ` +
    `server CPU ${run.serverCpuPercent.toFixed(0)}%  wrk CPU ${run.generatorCpuPercent.toFixed(0)}%  ` +
    `other CPU ${run.otherCpuPercent.toFixed(0)}%  peak RSS ${run.peakRssMb.toFixed(0)} MB${flag}` +
    (run.before.quiet ? "" : `  (machine ${run.before.busyPercent.toFixed(0)}% busy before the run)`)
  );
}

function printRuns(all: Run[]): void {
  console.log("\nEvery run:\n");
  const rows = all.map((run) => ({
    round: String(run.round),
    endpoint: run.endpoint,
    server: run.implementation,
    "req/s": formatNumber(run.wrk.requestsPerSecond),
    "p50 ms": run.wrk.p50Ms.toFixed(2),
    "p99 ms": run.wrk.p99Ms.toFixed(2),
    "non-2xx": formatNumber(run.wrk.errorStatus),
    "sock err": formatNumber(run.wrk.socketErrors),
    "server CPU": `${run.serverCpuPercent.toFixed(0)}%`,
    "wrk CPU": `${run.generatorCpuPercent.toFixed(0)}%`,
    "machine busy": `${run.machineBusyPercent.toFixed(0)}%`,
    softirq: `${run.softirqPercent.toFixed(0)}%`,
    "other CPU": `${run.otherCpuPercent.toFixed(0)}%${run.otherCpuPercent > DISTURBED_PERCENT ? " *" : ""}`,
    "peak RSS MB": run.peakRssMb.toFixed(0),
    "log lines/req": run.logLines === undefined ? "–" : (run.logLines / (run.wrk.requests + run.warmupRequests + 1)).toFixed(2),
    "bets stored": run.storedBets === undefined ? "–" : formatNumber(run.storedBets),
    "2xx answered": run.endpoint === "bets" ? formatNumber(run.wrk.requests + run.warmupRequests + 1 - run.wrk.errorStatus) : "–",
  }));
  console.log(formatTable(Object.keys(rows[0] ?? {}), rows));
}

function printSummary(all: Run[]): void {
  console.log(`\nMedians over ${rounds} round(s) (req/s is the median of the runs; CPU is % of one core, ${cores * 100}% = all ${cores} cores):\n`);
  const rows: Record<string, string>[] = [];
  const verdicts: string[] = [];
  for (const endpoint of endpoints) {
    const of = (implementation: Implementation) => all.filter((run) => run.endpoint === endpoint && run.implementation === implementation);
    const med = (implementation: Implementation, pick: (run: Run) => number) => median(of(implementation).map(pick));
    for (const implementation of implementations) {
      rows.push({
        endpoint,
        server: implementation,
        "req/s": formatNumber(med(implementation, (run) => run.wrk.requestsPerSecond)),
        "best req/s": formatNumber(Math.max(...of(implementation).map((run) => run.wrk.requestsPerSecond))),
        "p50 ms": med(implementation, (run) => run.wrk.p50Ms).toFixed(2),
        "p99 ms": med(implementation, (run) => run.wrk.p99Ms).toFixed(2),
        "non-2xx (all runs)": formatNumber(of(implementation).reduce((sum, run) => sum + run.wrk.errorStatus + run.wrk.socketErrors, 0)),
        "server CPU": `${med(implementation, (run) => run.serverCpuPercent).toFixed(0)}%`,
        "wrk CPU": `${med(implementation, (run) => run.generatorCpuPercent).toFixed(0)}%`,
        "peak RSS MB": med(implementation, (run) => run.peakRssMb).toFixed(0),
        "ours/Go req/s": "",
      });
    }
    if (implementations.length === 2) {
      const ours = med("ours", (run) => run.wrk.requestsPerSecond);
      const go = med("go", (run) => run.wrk.requestsPerSecond);
      // Noise on a shared machine only ever slows a run down, so best-of-N is a useful cross-check of the median.
      const best = (implementation: Implementation) => Math.max(...of(implementation).map((run) => run.wrk.requestsPerSecond));
      rows[rows.length - 2]!["ours/Go req/s"] = formatRatio(ours, go);
      const errors = all.filter((run) => run.endpoint === endpoint).some((run) => run.wrk.errorStatus + run.wrk.socketErrors > 0);
      const met = ours / go >= TARGETS[endpoint].ratio && !errors;
      verdicts.push(
        `${met ? "MET   " : "MISSED"} ${endpoint}: ${TARGETS[endpoint].text}: ${formatRatio(ours, go, 3)} ` +
          `(medians; best of ${rounds}: ${formatRatio(best("ours"), best("go"), 3)})` +
          (errors ? " (but some responses were errors: the figures are not valid)" : ""),
      );
    }
  }
  console.log(formatTable(Object.keys(rows[0] ?? {}), rows));
  if (verdicts.length > 0) console.log(`\nTargets:\n${verdicts.join("\n")}`);
  const disturbed = all.filter((run) => run.otherCpuPercent > DISTURBED_PERCENT);
  if (disturbed.length > 0) {
    console.log(
      `\n* Disturbed: in ${disturbed.length} of ${all.length} runs more than ${DISTURBED_PERCENT}% of a core went to neither server nor wrk ` +
        `(${disturbed.map((run) => `round ${run.round} ${run.endpoint} ${run.implementation}`).join(", ")}): ` +
        "something else was running; rerun, or raise --rounds.",
    );
  }
  const busy = median(all.map((run) => run.machineBusyPercent));
  if (busy > 90) {
    console.log(
      `\nNote: the machine was ${busy.toFixed(0)}% busy during the runs (median): wrk shares the cores with the server, ` +
        "so these are figures for server + generator on one box, not the server alone.",
    );
  }
}

function notWaited(): Quiet {
  return { busyPercent: Number.NaN, waitedSeconds: 0, quiet: true };
}
