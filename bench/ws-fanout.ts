/**
 * Websocket fan-out benchmark: our ws server against the Go peer, side by side.
 *
 *   bun bench/ws-fanout.ts [--clients 5000] [--rate 20] [--duration 20] [--rounds 3] [--processes 2]
 *                          [--servers ours,go] [--concurrency 100] [--logs file|null]
 *                          [--quiet-wait 60] [--quiet-below 15] [--build compiled|source]
 *                          [--bun-flags=--smol] [--json out.json]
 *
 * Per run: a fresh server; `--clients` websocket clients spread over `--processes`
 * load-generator processes; ticks published on Redis `prices:btc:usd` at `--rate`
 * per second for `--duration` seconds, each carrying its send time in `ts`; then
 * per-message latency (receive − ts), delivered share, server CPU per delivered
 * message, server RSS, and the generator's own CPU. Ours runs as dist/bin/ws, the
 * compiled executable the production unit runs (built first when stale), unless
 * `--build source` asks for `bun ws/main.ts`. See bench/README.md.
 */
import { RedisClient } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildGoPeer, type GoPeer } from "./lib/go-peer.ts";
import { checkConnectionLimits, openFilesLimit } from "./lib/limits.ts";
import { describeMachine } from "./lib/machine.ts";
import { readMemory, startCpuMeter } from "./lib/proc-stats.ts";
import { type Quiet, waitForQuiet } from "./lib/quiet.ts";
import { type BenchRedis, startRedis } from "./lib/redis-server.ts";
import { listOf, positiveInt } from "./lib/args.ts";
import { buildOf, buildOurs, IMPLEMENTATIONS, type Implementation, type RunningServer, startWs } from "./lib/servers.ts";
import { createHistogram, histogramMax, histogramPercentile, median, mergeHistogram } from "./lib/stats.ts";
import { formatNumber, formatRatio, formatTable } from "./lib/table.ts";
import { waitFor } from "../test/support/wait.ts";
import type { ClientsReport } from "./lib/ws-clients.ts";
import { type ClientProcess, spawnClientProcesses } from "./lib/ws-load.ts";

const CHANNEL = "prices:btc:usd";
/** A generator process above this share of one core is probably what limits the run. */
const GENERATOR_BUSY_PERCENT = 85;

const { values: args } = parseArgs({
  options: {
    clients: { type: "string", default: "5000" },
    rate: { type: "string", default: "20" },
    duration: { type: "string", default: "20" },
    rounds: { type: "string", default: "3" },
    processes: { type: "string", default: "2" },
    concurrency: { type: "string", default: "100" },
    servers: { type: "string", default: IMPLEMENTATIONS.join(",") },
    "ours-path": { type: "string", default: "/ws" },
    "go-path": { type: "string", default: "/ws" },
    logs: { type: "string", default: "file" },
    "bun-flags": { type: "string", default: "" },
    build: { type: "string", default: "compiled" },
    "quiet-wait": { type: "string", default: "60" },
    "quiet-below": { type: "string", default: "15" },
    json: { type: "string" },
  },
});
const clients = positiveInt("clients", args.clients);
const rate = positiveInt("rate", args.rate);
const durationSeconds = positiveInt("duration", args.duration);
const rounds = positiveInt("rounds", args.rounds);
const processes = positiveInt("processes", args.processes);
const concurrency = positiveInt("concurrency", args.concurrency);
const implementations = listOf("servers", args.servers, IMPLEMENTATIONS);
if (args.logs !== "file" && args.logs !== "null") throw new RangeError(`--logs must be file or null, not ${args.logs}`);
const logs = args.logs;
const quietWaitSeconds = Number(args["quiet-wait"]);
/** Extra flags for our bun processes (e.g. --bun-flags=--smol, or --bun-flags="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile). */
const bunFlags = args["bun-flags"].split(/\s+/).filter(Boolean);
const quietBelowPercent = Number(args["quiet-below"]);
const build = buildOf(args.build, bunFlags);
const cores = navigator.hardwareConcurrency;
/** CPU charged to none of server, generators and Redis above this (% of one core) marks a run as disturbed. */
const DISTURBED_PERCENT = 30;
const paths: Record<Implementation, string> = { ours: args["ours-path"], go: args["go-path"] };

interface FanoutRun {
  round: number;
  implementation: Implementation;
  opened: number;
  failedToOpen: number;
  connectSeconds: number;
  ticks: number;
  publishRate: number;
  expected: number;
  delivered: number;
  ignoredBeforeStart: number;
  unparsed: number;
  minPerClient: number;
  closedEarly: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  windowSeconds: number;
  serverCpuSeconds: number;
  serverCpuPercent: number;
  serverMicrosPerMessage: number;
  generatorCpuPercent: number[];
  redisCpuPercent: number;
  machineBusyPercent: number;
  /**
   * Machine-wide softirq, % of one core: the kernel network stack (on loopback, each
   * packet's receive side). With tick-based accounting it is also charged to the
   * process that was running, so it is mostly inside the server and generator
   * figures already, not in addition to them.
   */
  softirqPercent: number;
  softirqMicrosPerMessage: number;
  /** Machine CPU charged to none of server, generators, Redis (% of one core): anything else running. */
  otherCpuPercent: number;
  /** How busy the machine was just before publishing (clients connected and idle). */
  before: Quiet;
  rssAfterConnectMb: number;
  rssEndMb: number;
  peakRssMb: number;
}

const problems = checkConnectionLimits(clients, processes);
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log(describeMachine());
console.log(
  `load:    ${formatNumber(clients)} websocket clients over ${processes} generator process(es), ${rate} ticks/s for ${durationSeconds} s ` +
    `(${formatNumber(clients * rate)} messages/s expected), ${rounds} round(s), fresh server per run; open-files limit ${openFilesLimit()};\n` +
    `         publishing waits up to ${quietWaitSeconds} s for the machine to be ≤ ${quietBelowPercent}% busy;\n` +
    `         ours run as ${build === "compiled" ? "dist/bin/ws (compiled)" : `bun ${[...bunFlags, "ws/main.ts"].join(" ")}`}\n`,
);
if (implementations.includes("ours") && build === "compiled") buildOurs("ws");

const goPeer: GoPeer | undefined = implementations.includes("go") ? buildGoPeer() : undefined;
const runs: FanoutRun[] = [];
try {
  await using redis = await startRedis();
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? implementations : [...implementations].reverse();
    for (const implementation of order) {
      const dir = mkdtempSync(join(tmpdir(), `tap-bench-ws-${implementation}-`));
      try {
        const run = await measure(round, implementation, redis, await startWs(implementation, { redis, goPeer, dir, logs, bunFlags, build }));
        runs.push(run);
        console.log(describeRun(run));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
} finally {
  goPeer?.remove();
}
printRuns(runs);
printSummary(runs);
if (args.json) await Bun.write(args.json, JSON.stringify({ machine: describeMachine(), args, runs }, null, 2));

async function measure(round: number, implementation: Implementation, redis: BenchRedis, server: RunningServer): Promise<FanoutRun> {
  const publisher = new RedisClient(redis.url);
  let load: ClientProcess[] = [];
  try {
    load = spawnClientProcesses(`ws://127.0.0.1:${server.port}${paths[implementation]}`, { clients, processes, concurrency });
    const connected = await Promise.all(load.map((part) => part.connected));
    const opened = connected.reduce((sum, report) => sum + report.opened, 0);
    const failedToOpen = connected.reduce((sum, report) => sum + report.failed, 0);
    const connectSeconds = Math.max(...connected.map((report) => report.seconds));
    if (failedToOpen > 0) console.warn(`  !! ${failedToOpen} clients failed to connect: ${connected.find((r) => r.firstError)?.firstError}`);
    await waitFor(
      `${server.label} to subscribe to ${CHANNEL}`,
      async () => Number(((await publisher.send("PUBSUB", ["NUMSUB", CHANNEL])) as [string, number])[1]) >= 1,
      15_000,
    );
    await Bun.sleep(1_000); // let the connection burst settle before measuring
    const rssAfterConnectMb = readMemory(server.pid).rssKb / 1024;
    const before: Quiet =
      quietWaitSeconds > 0
        ? await waitForQuiet({ maxBusyPercent: quietBelowPercent, maxWaitSeconds: quietWaitSeconds })
        : { busyPercent: Number.NaN, waitedSeconds: 0, quiet: true };

    const since = Date.now();
    for (const part of load) part.start(since);
    await Bun.sleep(200);

    const generatorPids = Object.fromEntries(load.map((part, i) => [`generator${i}`, part.pid])) as Record<`generator${number}`, number>;
    const meter = startCpuMeter<string>({ server: server.pid, redis: redis.pid, ...generatorPids });
    const publishStarted = performance.now();
    const ticks = await publishTicks(publisher, rate, durationSeconds);
    const publishRate = (ticks - 1) / ((performance.now() - publishStarted) / 1000);
    const expected = ticks * opened;
    await drain(load, expected);
    const cpu = meter.stop();
    const memory = readMemory(server.pid);

    const reports = await Promise.all(load.map((part) => part.report()));
    const merged = mergeReports(reports);
    const serverCpuSeconds = cpu.cpuSeconds.server ?? Number.NaN;
    const generatorCpuPercent = load.map((_, i) => cpu.percentOfCore[`generator${i}`] ?? Number.NaN);
    const redisCpuPercent = cpu.percentOfCore.redis ?? Number.NaN;
    const serverCpuPercent = cpu.percentOfCore.server ?? Number.NaN;
    return {
      round,
      implementation,
      opened,
      failedToOpen,
      connectSeconds,
      ticks,
      publishRate,
      expected,
      delivered: merged.delivered,
      ignoredBeforeStart: merged.ignoredBeforeStart,
      unparsed: merged.unparsed,
      minPerClient: merged.minPerClient,
      closedEarly: merged.closedEarly,
      p50Ms: histogramPercentile(merged.histogram, 0.5),
      p99Ms: histogramPercentile(merged.histogram, 0.99),
      maxMs: histogramMax(merged.histogram),
      windowSeconds: cpu.wallSeconds,
      serverCpuSeconds,
      serverCpuPercent,
      serverMicrosPerMessage: merged.delivered > 0 ? (serverCpuSeconds / merged.delivered) * 1e6 : Number.NaN,
      generatorCpuPercent,
      redisCpuPercent,
      machineBusyPercent: cpu.machineBusyPercent,
      softirqPercent: cpu.softirqPercentOfCore,
      softirqMicrosPerMessage: merged.delivered > 0 ? (cpu.softirqSeconds / merged.delivered) * 1e6 : Number.NaN,
      otherCpuPercent:
        cpu.machineBusyPercent * cores -
        serverCpuPercent -
        redisCpuPercent -
        generatorCpuPercent.reduce((sum, p) => sum + p, 0),
      before,
      rssAfterConnectMb,
      rssEndMb: memory.rssKb / 1024,
      peakRssMb: memory.peakKb / 1024,
    };
  } finally {
    publisher.close();
    await Promise.all(load.map((part) => part.exit()));
    await server.stop();
  }
}

/** Publishes `rate` ticks a second for `seconds` on an absolute schedule (no drift); returns how many. */
async function publishTicks(publisher: RedisClient, ticksPerSecond: number, seconds: number): Promise<number> {
  const intervalMs = 1000 / ticksPerSecond;
  const total = ticksPerSecond * seconds;
  const t0 = performance.now();
  let price = 42_000;
  for (let i = 0; i < total; i++) {
    const wait = t0 + i * intervalMs - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    price = Math.max(1, Math.round((price + (Math.random() - 0.5) * 20) * 100) / 100);
    const receivers = await publisher.publish(CHANNEL, JSON.stringify({ symbol: "BTC-USD", price, ts: Date.now() }));
    if (i === 0 && Number(receivers) < 1) throw new Error(`nobody subscribed to ${CHANNEL} when publishing started`);
  }
  return total;
}

/** Waits until every expected message arrived, or nothing more arrived for 3 s (at most 30 s). */
async function drain(load: ClientProcess[], expected: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last = -1;
  let lastChange = Date.now();
  while (Date.now() < deadline) {
    await Bun.sleep(250);
    const delivered = load.reduce((sum, part) => sum + part.delivered(), 0);
    if (delivered >= expected) return;
    if (delivered !== last) {
      last = delivered;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 3_000) return;
  }
}

function mergeReports(reports: ClientsReport[]) {
  const histogram = createHistogram();
  for (const report of reports) mergeHistogram(histogram, report.histogram);
  const sum = (pick: (report: ClientsReport) => number) => reports.reduce((total, report) => total + pick(report), 0);
  return {
    histogram,
    delivered: sum((r) => r.delivered),
    ignoredBeforeStart: sum((r) => r.ignoredBeforeStart),
    unparsed: sum((r) => r.unparsed),
    closedEarly: sum((r) => r.closedEarly),
    minPerClient: Math.min(...reports.map((r) => r.minPerClient)),
  };
}

function deliveredPercent(run: FanoutRun): number {
  return run.expected > 0 ? (run.delivered / run.expected) * 100 : Number.NaN;
}

function generatorBound(run: FanoutRun): boolean {
  return Math.max(...run.generatorCpuPercent) >= GENERATOR_BUSY_PERCENT;
}

function describeRun(run: FanoutRun): string {
  return (
    `round ${run.round} ${run.implementation.padEnd(4)} ${formatNumber(run.opened)} clients (connected in ${run.connectSeconds.toFixed(1)} s), ` +
    `delivered ${deliveredPercent(run).toFixed(3)}%  p50 ${run.p50Ms} ms  p99 ${run.p99Ms} ms  ` +
    `server ${run.serverMicrosPerMessage.toFixed(2)} µs/msg (${run.serverCpuPercent.toFixed(0)}% CPU)  ` +
    `generators ${run.generatorCpuPercent.map((p) => `${p.toFixed(0)}%`).join("/")}  peak RSS ${run.peakRssMb.toFixed(0)} MB` +
    (generatorBound(run) ? "  [generator-bound]" : "") +
    (run.before.quiet ? "" : `  (machine ${run.before.busyPercent.toFixed(0)}% busy before publishing)`) +
    (run.failedToOpen > 0 ? `  !! ${run.failedToOpen} failed to connect` : "")
  );
}

function printRuns(all: FanoutRun[]): void {
  console.log("\nEvery run (CPU is % of one core over the publishing window, until every message arrived):\n");
  const rows = all.map((run) => ({
    round: String(run.round),
    server: run.implementation,
    clients: formatNumber(run.opened),
    ticks: `${run.ticks} @ ${run.publishRate.toFixed(1)}/s`,
    delivered: `${deliveredPercent(run).toFixed(3)}%`,
    "min/client": String(run.minPerClient),
    "p50 ms": String(run.p50Ms),
    "p99 ms": String(run.p99Ms),
    "max ms": String(run.maxMs),
    "server CPU": `${run.serverCpuPercent.toFixed(0)}%`,
    "µs/msg": run.serverMicrosPerMessage.toFixed(2),
    "generator CPU": run.generatorCpuPercent.map((p) => `${p.toFixed(0)}%`).join(" / "),
    redis: `${run.redisCpuPercent.toFixed(0)}%`,
    "machine busy": `${run.machineBusyPercent.toFixed(0)}%`,
    softirq: `${run.softirqPercent.toFixed(0)}% (${run.softirqMicrosPerMessage.toFixed(2)} µs/msg)`,
    "other CPU": `${run.otherCpuPercent.toFixed(0)}%${run.otherCpuPercent > DISTURBED_PERCENT ? " *" : ""}`,
    "RSS connected MB": run.rssAfterConnectMb.toFixed(0),
    "RSS end MB": run.rssEndMb.toFixed(0),
    "peak RSS MB": run.peakRssMb.toFixed(0),
  }));
  console.log(formatTable(Object.keys(rows[0] ?? {}), rows));
  const notes = all.filter((run) => run.ignoredBeforeStart + run.unparsed + run.closedEarly > 0);
  for (const run of notes) {
    console.log(
      `  round ${run.round} ${run.implementation}: ${run.ignoredBeforeStart} messages from before publishing ignored (snapshots), ` +
        `${run.unparsed} without ts, ${run.closedEarly} clients closed by the server`,
    );
  }
}

function printSummary(all: FanoutRun[]): void {
  const of = (implementation: Implementation) => all.filter((run) => run.implementation === implementation);
  const med = (implementation: Implementation, pick: (run: FanoutRun) => number) => median(of(implementation).map(pick));
  console.log(`\nMedians over ${rounds} round(s):\n`);
  const rows = implementations.map((implementation) => ({
    server: implementation,
    "delivered (worst run)": `${Math.min(...of(implementation).map(deliveredPercent)).toFixed(3)}%`,
    "p50 ms": String(med(implementation, (run) => run.p50Ms)),
    "p99 ms": String(med(implementation, (run) => run.p99Ms)),
    "best p99 ms": String(Math.min(...of(implementation).map((run) => run.p99Ms))),
    "server CPU": `${med(implementation, (run) => run.serverCpuPercent).toFixed(0)}%`,
    "µs/msg": med(implementation, (run) => run.serverMicrosPerMessage).toFixed(2),
    "softirq µs/msg": med(implementation, (run) => run.softirqMicrosPerMessage).toFixed(2),
    "generator CPU (busiest)": `${med(implementation, (run) => Math.max(...run.generatorCpuPercent)).toFixed(0)}%`,
    "peak RSS MB": med(implementation, (run) => run.peakRssMb).toFixed(0),
    "RSS end MB": med(implementation, (run) => run.rssEndMb).toFixed(0),
  }));
  console.log(formatTable(Object.keys(rows[0] ?? {}), rows));

  if (implementations.length === 2) {
    const ours = (pick: (run: FanoutRun) => number) => med("ours", pick);
    const go = (pick: (run: FanoutRun) => number) => med("go", pick);
    const worstDelivered = Math.min(...of("ours").map(deliveredPercent));
    const verdict = (met: boolean, text: string) => `${met ? "MET   " : "MISSED"} ${text}`;
    const p99 = [ours((r) => r.p99Ms), go((r) => r.p99Ms)] as const;
    const micros = [ours((r) => r.serverMicrosPerMessage), go((r) => r.serverMicrosPerMessage)] as const;
    const peak = [ours((r) => r.peakRssMb), go((r) => r.peakRssMb)] as const;
    console.log(
      [
        "\nTargets (ours against Go):",
        verdict(worstDelivered >= 100, `100 % delivered in every run: worst ${worstDelivered.toFixed(3)}%`),
        verdict(
          p99[0] <= p99[1],
          `p99 latency no worse than Go's: ${p99[0]} ms vs ${p99[1]} ms (medians; best of ${rounds}: ` +
            `${Math.min(...of("ours").map((r) => r.p99Ms))} vs ${Math.min(...of("go").map((r) => r.p99Ms))} ms)`,
        ),
        verdict(micros[0] <= 0.7 * micros[1], `server CPU per message ≤ 0.7× Go's: ${formatRatio(micros[0], micros[1], 3)} (${micros[0].toFixed(2)} vs ${micros[1].toFixed(2)} µs)`),
        verdict(peak[0] <= 0.6 * peak[1], `peak RSS ≤ 0.6× Go's: ${formatRatio(peak[0], peak[1], 3)} (${peak[0].toFixed(0)} vs ${peak[1].toFixed(0)} MB)`),
      ].join("\n"),
    );
  }
  const bound = all.filter(generatorBound);
  console.log(
    bound.length > 0
      ? `\nGenerator-bound: in ${bound.length} of ${all.length} runs a client process used ≥ ${GENERATOR_BUSY_PERCENT}% of a core ` +
          `(${bound.map((run) => `round ${run.round} ${run.implementation}`).join(", ")}): latency there measures the load generator as much as the server.`
      : `\nThe generator was not the bottleneck: no client process reached ${GENERATOR_BUSY_PERCENT}% of a core.`,
  );
  const disturbed = all.filter((run) => run.otherCpuPercent > DISTURBED_PERCENT);
  if (disturbed.length > 0) {
    console.log(
      `* Disturbed: in ${disturbed.length} of ${all.length} runs more than ${DISTURBED_PERCENT}% of a core went to none of server, ` +
        `generators and Redis (${disturbed.map((run) => `round ${run.round} ${run.implementation}`).join(", ")}): something else was running.`,
    );
  }
  const busy = median(all.map((run) => run.machineBusyPercent));
  if (busy > 90) console.log(`The machine was ${busy.toFixed(0)}% busy (median): server, generator and Redis share its ${cores} cores.`);
}
