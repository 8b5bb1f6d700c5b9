/**
 * Players per box (issue 17 §6): whole simulated players through nginx against
 * the real stack (redis-server, api on SQLite, ws, price with PRICE_SOURCE=mock
 * and 100 ms ticks (`--tick-ms`; production's default is 1000), nginx with the
 * production site), one fresh stack per step. `--store postgres` runs the api
 * on a PostgreSQL database of the step's own on 127.0.0.1:5432 (dropped
 * after) and reports the backends serving it as a `postgres` part; `--nodes 2`
 * (PostgreSQL only) runs two api and two ws processes behind nginx, each part's
 * figures summed over its nodes.
 *
 *   bun bench/capacity.ts [--players 250,500,1000 | --search] [--duration 30] [--tap-every-ms 5000]
 *                         [--tick-ms 100] [--processes 2] [--grace-ms 5000] [--retries 2] [--build source|compiled]
 *                         [--store sqlite|postgres] [--nodes 1|2] [--api-env KEY=VALUE,…] [--ws-env KEY=VALUE,…] [--json out.json]
 *
 * Each player (bench/lib/capacity-players.ts, spread over `--processes` client
 * processes) opens a session, a websocket through nginx, authenticates,
 * subscribes to prices and the grid, and taps a bet every `--tap-every-ms`
 * (jittered) on an open, offered cell of the latest pushed grid, with
 * `min_multiplier`. Over the `--duration` s tapping window it reports per
 * server process CPU per player-second and TCP bytes sent per player-second
 * (bench/lib/capacity-sockets.ts), bet latency and tick delay p50/p99, and
 * the events lost: 202 bets whose `accepted` event or whose result never came,
 * or whose result came later than t_end + `--grace-ms`. The SLO: bet p99 <
 * 100 ms, tick delay p99 < 250 ms, no event lost, every player connected.
 * `--search` steps 250, 500, 1000, 2000, 4000, 5000 (the issue's target), 6000,
 * 8000 until a step breaks it and prints the most players that held. A step
 * that breaks while others' work on the shared machine took over 30 % of a
 * core is run again (`--retries`). See bench/README.md and docs/scaling.md.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { positiveInt } from "./lib/args.ts";
import { type PlayersConnected, type PlayersReport } from "./lib/capacity-players.ts";
import { type PostgresWindow, startPostgresMeter } from "./lib/capacity-postgres.ts";
import { startSentMeter } from "./lib/capacity-sockets.ts";
import { type CapacityStack, STACK_PARTS, type StackPart, startCapacityStack } from "./lib/capacity-stack.ts";
import { checkConnectionLimits } from "./lib/limits.ts";
import { describeMachine } from "./lib/machine.ts";
import { readCpuSeconds, readMachineCpu, readMemory, startCpuMeter } from "./lib/proc-stats.ts";
import { createHistogram, histogramPercentile, mergeHistogram } from "./lib/stats.ts";
import { formatNumber, formatTable } from "./lib/table.ts";
import { parseApiEnv } from "./lib/api-env.ts";
import { postgresMissing } from "../test/support/postgres.ts";

const { values: args } = parseArgs({
  options: {
    players: { type: "string", default: "250,500,1000" },
    search: { type: "boolean", default: false },
    duration: { type: "string", default: "30" },
    "tap-every-ms": { type: "string", default: "5000" },
    "tick-ms": { type: "string", default: "100" },
    processes: { type: "string", default: "2" },
    "grace-ms": { type: "string", default: "5000" },
    concurrency: { type: "string", default: "50" },
    build: { type: "string", default: "source" },
    retries: { type: "string", default: "2" },
    store: { type: "string", default: "sqlite" },
    nodes: { type: "string", default: "1" },
    "api-env": { type: "string", default: "" },
    "ws-env": { type: "string", default: "" },
    json: { type: "string" },
  },
});
const SEARCH_STEPS = [250, 500, 1000, 2000, 4000, 5000, 6000, 8000];
const steps = args.search ? SEARCH_STEPS : args.players.split(",").map((raw) => positiveInt("players", raw.trim()));
const durationSeconds = positiveInt("duration", args.duration);
const tapEveryMs = positiveInt("tap-every-ms", args["tap-every-ms"]);
const processes = positiveInt("processes", args.processes);
const graceMs = positiveInt("grace-ms", args["grace-ms"]);
const concurrency = positiveInt("concurrency", args.concurrency);
/** A step that breaks the SLO while others' work took over DISTURBED_PERCENT of a core is run again, this many times. */
const retries = Number.isInteger(Number(args.retries)) && Number(args.retries) >= 0 ? Number(args.retries) : positiveInt("retries", args.retries);
const DISTURBED_PERCENT = 30;
if (args.build !== "source" && args.build !== "compiled") throw new RangeError(`--build takes source or compiled, not ${args.build}`);
const build = args.build;
if (args.store !== "sqlite" && args.store !== "postgres") throw new RangeError(`--store takes sqlite or postgres, not ${args.store}`);
const store = args.store;
if (args.nodes !== "1" && args.nodes !== "2") throw new RangeError(`--nodes takes 1 or 2, not ${args.nodes}`);
const nodes = args.nodes === "2" ? 2 : 1;
const apiEnv = parseApiEnv(args["api-env"]);
// The same KEY=VALUE pairs for every ws process, e.g. WS_GRID_SPREAD_MS=200.
const wsEnv = parseApiEnv(args["ws-env"]);
if (nodes > 1 && store !== "postgres") {
  console.error("--nodes 2 needs --store postgres: api nodes share only PostgreSQL (docs/nodes.md); each would have its own SQLite file.");
  process.exit(2);
}
if (store === "postgres") {
  const missing = await postgresMissing();
  if (missing) {
    console.error(`--store postgres: ${missing}`);
    process.exit(2);
  }
}
/** The parts the report lists: the stack's, and the run's PostgreSQL backends when the api runs on PostgreSQL. */
const PARTS: readonly ReportPart[] = store === "postgres" ? [...STACK_PARTS, "postgres"] : STACK_PARTS;
const cores = navigator.hardwareConcurrency;
const SLO = { betP99Ms: 100, tickP99Ms: 250 };
const GENERATOR_LIMIT_PERCENT = 85;
/** The price service's PRICE_INTERVAL_MS: 10 ticks a second by default, ten times production's default, to load ws and nginx with frames. */
const PRICE_INTERVAL_MS = positiveInt("tick-ms", args["tick-ms"]);

type ReportPart = StackPart | "postgres";

/** The stack being measured, stopped on Ctrl-C / SIGTERM too so its PostgreSQL database is dropped. */
let current: CapacityStack | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void (current?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}


interface Step {
  players: number;
  connected: number;
  connectFailed: number;
  firstError?: string;
  connectSeconds: number;
  wallSeconds: number;
  /** Each part summed over its nodes (api and ws: `--nodes`); `postgres` only with `--store postgres`. */
  cpuPercent: Record<ReportPart, number>;
  /** µs of CPU per player per second. */
  cpuPerPlayerUs: Record<ReportPart, number>;
  /** TCP bytes sent per player per second. */
  bytesPerPlayer: Record<ReportPart, number>;
  closedSockets: Record<ReportPart, number>;
  /** postgres: NaN (its backends' RSS counts the shared buffers each touched). */
  rssMb: Record<ReportPart, number>;
  /** With `--store postgres`: the run's backends and the cluster's shared processes (not charged). */
  postgres?: PostgresWindow & { sharedCpuPercent: number };
  generatorCpuPercent: number[];
  benchCpuPercent: number;
  machineBusyPercent: number;
  /** Busy CPU (% of one core) not charged to the stack, the generator or this script: other people's work. */
  otherCpuPercent: number;
  machineBusyBeforePercent: number;
  taps: number;
  noCell: number;
  statuses: Record<string, number>;
  betP50: number;
  betP99: number;
  /** p99 of the taps sent in the 300 ms after the grid's publish (half a second into each second), and of the others. */
  betP99AfterGrid: number;
  betP99Elsewhere: number;
  tickP50: number;
  tickP99: number;
  tickP99AfterGrid: number;
  tickP99Elsewhere: number;
  ticksPerPlayerPerSecond: number;
  gridBytesPerPlayerPerSecond: number;
  accepted: number;
  missingAccepted: number;
  settledLate: number;
  neverSettled: number;
  results: Record<string, number>;
  settleP99: number;
  closedEarly: number;
  closeCodes: Record<string, number>;
  /** Servers that exited during the step: each breaks it. */
  problems: string[];
}

console.log(describeMachine());
console.log(
  `load:    ${args.search ? `search over ${SEARCH_STEPS.join(", ")}` : steps.join(", ")} players, ${processes} client process(es), a tap every ${tapEveryMs} ms (±50 %) per player, ` +
    `${durationSeconds} s measured per step, results due by t_end + ${graceMs} ms\n` +
    `stack:   redis-server, ${nodes === 2 ? "2 api nodes" : "api"} (${store === "postgres" ? "PostgreSQL on 127.0.0.1:5432, a database of each step's own" : "SQLite, DB_SYNC default"}${Object.keys(apiEnv).length > 0 ? `, settings ${JSON.stringify(apiEnv)}` : ""}), ${nodes === 2 ? "2 ws nodes" : "ws"}${Object.keys(wsEnv).length > 0 ? ` (settings ${JSON.stringify(wsEnv)})` : ""}, price (mock, ${PRICE_INTERVAL_MS} ms ticks) as ${build === "source" ? "bun <service>/main.ts" : "dist/bin/<service>"}, ` +
    `nginx (production site and events settings), LOG_LEVEL=info to files\n`,
);

const done: Step[] = [];
let held: Step | undefined;
for (const players of steps) {
  const problems = checkConnectionLimits(players, processes);
  if (problems.length > 0) {
    console.log(`${players} players: cannot run here:\n  ${problems.join("\n  ")}`);
    break;
  }
  let breaks: string[] = [];
  for (let attempt = 0; attempt <= retries; attempt++) {
    const step = await measure(players);
    done.push(step);
    breaks = sloBreaks(step);
    console.log(describeStep(step, breaks));
    if (breaks.length === 0) {
      held = step;
      break;
    }
    if (!disturbed(step)) break;
    if (attempt < retries) console.log(`  other work took ${step.otherCpuPercent.toFixed(0)}% of a core during this step: running it again (${attempt + 1} of ${retries})`);
  }
  if (breaks.length > 0 && args.search) break;
}
printTable(done);
printVerdict(done);
if (args.json) await Bun.write(args.json, JSON.stringify({ machine: describeMachine(), args, steps: done }, null, 2));

async function measure(players: number): Promise<Step> {
  const stack = await startStack();
  const clients = spawnPlayers(stack, players);
  try {
    const connected = await Promise.all(clients.map((client) => client.connected));
    await Bun.sleep(2_000);
    const busyBefore = readMachineCpu();
    await Bun.sleep(1_000);
    const busyAfter = readMachineCpu();
    const machineBusyBeforePercent = ((busyAfter.busy - busyBefore.busy) / (busyAfter.total - busyBefore.total)) * 100;

    const generator = Object.fromEntries(clients.map((client, i) => [`g${i}`, client.pid]));
    // One meter key per node (`api#0`, `api#1`, …), summed per part below.
    const nodePids = Object.fromEntries(STACK_PARTS.flatMap((part) => stack.pids[part].map((pid, i) => [`${part}#${i}`, pid] as const)));
    const pg = stack.database ? await startPostgresMeter(stack.database.name) : undefined;
    const cpu = startCpuMeter<string>({ ...nodePids, ...generator });
    const benchCpuBefore = readCpuSeconds(process.pid, { descendants: false });
    const sent = startSentMeter<string>(nodePids);
    const since = Date.now();
    for (const client of clients) client.send({ type: "start", since });
    await Bun.sleep(durationSeconds * 1000);
    const bytes = sent.stop();
    const window = cpu.stop();
    const pgWindow = await pg?.stop();
    const benchCpuPercent = ((readCpuSeconds(process.pid, { descendants: false }) - benchCpuBefore) / window.wallSeconds) * 100;
    for (const client of clients) client.send({ type: "stop" });
    // A server that exited during the step (e.g. an api node that lost the settler lease) breaks it; its RSS is unknown.
    const exited = STACK_PARTS.flatMap((part) => stack.pids[part].flatMap((pid, i) => (alive(pid) ? [] : [`${part}${stack.pids[part].length > 1 ? ` node ${i + 1}` : ""} (pid ${pid}) exited during the step`])));
    const rssMb = Object.fromEntries(
      PARTS.map((part) => [part, part === "postgres" ? Number.NaN : sum(stack.pids[part].map((pid) => (alive(pid) ? readMemory(pid).rssKb / 1024 : Number.NaN)))]),
    ) as Record<ReportPart, number>;

    // Wait for the last bet's result to be due, then read every client's counts.
    const first = await Promise.all(clients.map((client) => client.report()));
    const dueAt = Math.max(0, ...first.map((report) => report.lastTEnd)) + graceMs + 500;
    await Bun.sleep(Math.max(0, dueAt - Date.now()));
    const reports = await Promise.all(clients.map((client) => client.report()));

    const perPlayer = (value: number) => value / (players * window.wallSeconds);
    const cpuPercent = {} as Record<ReportPart, number>;
    const cpuPerPlayerUs = {} as Record<ReportPart, number>;
    const bytesPerPlayer = {} as Record<ReportPart, number>;
    const closedSockets = {} as Record<ReportPart, number>;
    for (const part of STACK_PARTS) {
      const keys = stack.pids[part].map((_, i) => `${part}#${i}`);
      const cpuSeconds = sum(keys.map((key) => window.cpuSeconds[key]!));
      cpuPercent[part] = (cpuSeconds / window.wallSeconds) * 100;
      cpuPerPlayerUs[part] = perPlayer(cpuSeconds) * 1e6;
      bytesPerPlayer[part] = perPlayer(sum(keys.map((key) => bytes.bytes[key]!)));
      closedSockets[part] = sum(keys.map((key) => bytes.closedSockets[key]!));
    }
    if (pgWindow) {
      cpuPercent.postgres = (pgWindow.cpuSeconds / window.wallSeconds) * 100;
      cpuPerPlayerUs.postgres = perPlayer(pgWindow.cpuSeconds) * 1e6;
      bytesPerPlayer.postgres = perPlayer(pgWindow.bytes);
      closedSockets.postgres = pgWindow.gone;
    }
    const generatorCpuPercent = clients.map((_, i) => window.percentOfCore[`g${i}`]!);
    const charged = sum(PARTS.map((part) => cpuPercent[part])) + sum(generatorCpuPercent) + benchCpuPercent;
    const merged = mergeReports(reports);
    const step: Step = {
      players,
      connected: connected.reduce((sum, one) => sum + one.players, 0),
      connectFailed: connected.reduce((sum, one) => sum + one.failed, 0),
      connectSeconds: Math.max(...connected.map((one) => one.seconds)),
      wallSeconds: window.wallSeconds,
      cpuPercent,
      cpuPerPlayerUs,
      bytesPerPlayer,
      closedSockets,
      rssMb,
      ...(pgWindow ? { postgres: { ...pgWindow, sharedCpuPercent: (pgWindow.sharedCpuSeconds / window.wallSeconds) * 100 } } : {}),
      generatorCpuPercent,
      benchCpuPercent,
      machineBusyPercent: window.machineBusyPercent,
      otherCpuPercent: window.machineBusyPercent * cores - charged,
      machineBusyBeforePercent,
      taps: merged.taps,
      noCell: merged.noCell,
      statuses: merged.statuses,
      betP50: histogramPercentile(merged.betLatency, 0.5),
      betP99: histogramPercentile(merged.betLatency, 0.99),
      betP99AfterGrid: histogramPercentile(merged.betLatencyAfterGrid, 0.99),
      betP99Elsewhere: histogramPercentile(merged.betLatencyElsewhere, 0.99),
      tickP50: histogramPercentile(merged.tickDelay, 0.5),
      tickP99: histogramPercentile(merged.tickDelay, 0.99),
      tickP99AfterGrid: histogramPercentile(merged.tickDelayAfterGrid, 0.99),
      tickP99Elsewhere: histogramPercentile(merged.tickDelayElsewhere, 0.99),
      ticksPerPlayerPerSecond: merged.ticks / (players * window.wallSeconds),
      gridBytesPerPlayerPerSecond: merged.gridBytes / (players * window.wallSeconds),
      accepted: merged.accepted,
      missingAccepted: merged.missingAccepted,
      settledLate: merged.settledLate,
      neverSettled: merged.neverSettled,
      results: merged.results,
      settleP99: histogramPercentile(merged.settleDelay, 0.99),
      closedEarly: merged.closedEarly,
      closeCodes: merged.closeCodes,
      problems: exited,
    };
    const firstError = connected.find((one) => one.firstError)?.firstError;
    if (firstError !== undefined) step.firstError = firstError;
    return step;
  } finally {
    await Promise.all(clients.map((client) => client.exit()));
    const problems = stack.problems();
    await stack.stop();
    if (problems.length > 0) console.log(`warnings in the services' logs:\n  ${problems.join("\n  ")}`);
  }
}

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}/status`);
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** The stack, with up to two more tries: on a loaded shared machine a service can miss its start-up deadline. */
async function startStack(): Promise<CapacityStack> {
  for (let attempt = 1; ; attempt++) {
    try {
      current = await startCapacityStack({ build, wsPerAddress: 20_000, priceIntervalMs: PRICE_INTERVAL_MS, store, nodes, apiEnv, wsEnv });
      return current;
    } catch (error) {
      if (attempt >= 3) throw error;
      console.log(`the stack did not start (try ${attempt} of 3): ${(error as Error).message}`);
      await Bun.sleep(2_000);
    }
  }
}

function mergeReports(reports: PlayersReport[]): PlayersReport {
  const sumRecord = (pick: (report: PlayersReport) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const report of reports) for (const [key, value] of Object.entries(pick(report))) out[key] = (out[key] ?? 0) + value;
    return out;
  };
  const merged: PlayersReport = {
    ...reports[0]!,
    betLatency: createHistogram(),
    betLatencyAfterGrid: createHistogram(),
    betLatencyElsewhere: createHistogram(),
    tickDelay: createHistogram(),
    tickDelayAfterGrid: createHistogram(),
    tickDelayElsewhere: createHistogram(),
    settleDelay: createHistogram(60_000),
    statuses: sumRecord((report) => report.statuses),
    results: sumRecord((report) => report.results),
    closeCodes: sumRecord((report) => report.closeCodes),
  };
  const sums = ["players", "open", "closedEarly", "taps", "noCell", "ticks", "grids", "gridBytes", "accepted", "acceptedEvents", "missingAccepted", "settledInTime", "settledLate", "neverSettled"] as const;
  for (const key of sums) merged[key] = reports.reduce((sum, report) => sum + report[key], 0);
  for (const report of reports) {
    mergeHistogram(merged.betLatency, report.betLatency);
    mergeHistogram(merged.betLatencyAfterGrid, report.betLatencyAfterGrid);
    mergeHistogram(merged.betLatencyElsewhere, report.betLatencyElsewhere);
    mergeHistogram(merged.tickDelay, report.tickDelay);
    mergeHistogram(merged.tickDelayAfterGrid, report.tickDelayAfterGrid);
    mergeHistogram(merged.tickDelayElsewhere, report.tickDelayElsewhere);
    mergeHistogram(merged.settleDelay, report.settleDelay);
  }
  return merged;
}

/** Why a step breaks the SLO (empty: it held). The generator's own limit is named, not counted as the server's. */
function sloBreaks(step: Step): string[] {
  const breaks: string[] = [];
  if (step.connected < step.players) breaks.push(`${step.players - step.connected} players could not connect (${step.firstError ?? "?"})`);
  if (!(step.betP99 < SLO.betP99Ms)) breaks.push(`bet p99 ${step.betP99} ms ≥ ${SLO.betP99Ms} ms`);
  if (!(step.tickP99 < SLO.tickP99Ms)) breaks.push(`tick delay p99 ${step.tickP99} ms ≥ ${SLO.tickP99Ms} ms`);
  const lost = step.missingAccepted + step.neverSettled + step.settledLate;
  if (lost > 0) breaks.push(`${lost} events lost (${step.missingAccepted} accepted missing, ${step.neverSettled} results missing, ${step.settledLate} results late)`);
  breaks.push(...step.problems);
  if (step.closedEarly > 0) breaks.push(`${step.closedEarly} websockets closed by the server side (${JSON.stringify(step.closeCodes)})`);
  return breaks;
}

/** Others' work on the shared machine took more than DISTURBED_PERCENT of a core during the step. */
function disturbed(step: Step): boolean {
  return step.otherCpuPercent > DISTURBED_PERCENT;
}

function generatorBound(step: Step): boolean {
  return step.generatorCpuPercent.some((percent) => percent >= GENERATOR_LIMIT_PERCENT);
}

function statusText(statuses: Record<string, number>): string {
  return Object.entries(statuses).sort().map(([status, count]) => `${status}×${formatNumber(count)}`).join(" ") || "none";
}

function describeStep(step: Step, breaks: string[]): string {
  const parts = PARTS.map((part) => `${part} ${step.cpuPercent[part].toFixed(0)}%`).join(", ");
  const pg = step.postgres;
  const pgLine = pg
    ? [
        `  postgres: ${pg.backends} backends of the run's database (${pg.started} opened during the window, ${pg.gone} gone), ${pg.cpuSeconds.toFixed(1)} s CPU charged; ` +
          `walwriter + checkpointer + background writer ${pg.sharedCpuPercent.toFixed(1)}% of a core (serve every database on the server: not charged, counted in other work); postmaster not counted`,
      ]
    : [];
  return [
    `\n${formatNumber(step.players)} players (${formatNumber(step.connected)} connected in ${step.connectSeconds.toFixed(1)} s), ${step.wallSeconds.toFixed(1)} s measured:`,
    `  taps ${formatNumber(step.taps)} (${statusText(step.statuses)}; no open cell ${step.noCell}), bet p50 ${step.betP50} ms p99 ${step.betP99} ms (sent in the 300 ms after a grid publish: p99 ${step.betP99AfterGrid} ms; the rest: ${step.betP99Elsewhere} ms); tick delay p50 ${step.tickP50} ms p99 ${step.tickP99} ms (slots in the 300 ms after a grid publish: p99 ${step.tickP99AfterGrid} ms; the rest: ${step.tickP99Elsewhere} ms) ` +
      `(${step.ticksPerPlayerPerSecond.toFixed(2)} ticks and ${formatNumber(step.gridBytesPerPlayerPerSecond)} grid bytes per player per s received)`,
    `  accepted ${formatNumber(step.accepted)}: results ${statusText(step.results)}, settle p99 ${step.settleP99} ms after t_end; lost: ${step.missingAccepted} accepted events, ${step.neverSettled} results, ${step.settledLate} late`,
    `  CPU (% of one core): ${parts}; generator ${step.generatorCpuPercent.map((p) => `${p.toFixed(0)}%`).join(" / ")}; this script ${step.benchCpuPercent.toFixed(0)}%; ` +
      `machine ${step.machineBusyPercent.toFixed(0)}% busy of ${cores * 100}%/${cores}, other work ${step.otherCpuPercent.toFixed(0)}% (machine ${step.machineBusyBeforePercent.toFixed(0)}% busy just before)`,
    ...pgLine,
    `  ${breaks.length === 0 ? "HELD" : `BROKE: ${breaks.join("; ")}`}${generatorBound(step) ? `  [a client process reached ${GENERATOR_LIMIT_PERCENT}% of a core: the GENERATOR is a bottleneck]` : ""}`,
  ].join("\n");
}

function printTable(steps: Step[]): void {
  if (steps.length === 0) return;
  const summed = nodes > 1 ? `; api and ws summed over their ${nodes} nodes` : "";
  const pgNote = store === "postgres" ? "; postgres = the backends serving the step's database, not the postmaster nor the cluster's walwriter/checkpointer/background writer" : "";
  console.log(`\nPer server process (CPU in µs per player-second, bytes = TCP bytes sent per player-second, from tcp_info bytes_sent${summed}${pgNote}):\n`);
  const rows = steps.flatMap((step) =>
    PARTS.map((part) => ({
      players: formatNumber(step.players),
      process: nodes > 1 && (part === "api" || part === "ws") ? `${part} ×${nodes}` : part,
      "CPU %": step.cpuPercent[part].toFixed(1),
      "µs CPU/player·s": step.cpuPerPlayerUs[part].toFixed(1),
      "B sent/player·s": formatNumber(step.bytesPerPlayer[part]),
      "RSS MB": Number.isNaN(step.rssMb[part]) ? "–" : step.rssMb[part].toFixed(0),
      "sockets closed": String(step.closedSockets[part]),
    })),
  );
  console.log(formatTable(["players", "process", "CPU %", "µs CPU/player·s", "B sent/player·s", "RSS MB", "sockets closed"], rows));
  console.log("\nPer step:\n");
  console.log(
    formatTable(
      ["players", "bet p50", "bet p99", "bet p99 after grid / rest", "tick p50", "tick p99", "tick p99 after grid / rest", "taps", "202", "lost", "stack CPU", "generator CPU", "other CPU", "verdict"],
      steps.map((step) => ({
        players: formatNumber(step.players),
        "bet p50": `${step.betP50} ms`,
        "bet p99": `${step.betP99} ms`,
        "bet p99 after grid / rest": `${step.betP99AfterGrid} / ${step.betP99Elsewhere} ms`,
        "tick p50": `${step.tickP50} ms`,
        "tick p99": `${step.tickP99} ms`,
        "tick p99 after grid / rest": `${step.tickP99AfterGrid} / ${step.tickP99Elsewhere} ms`,
        taps: formatNumber(step.taps),
        "202": formatNumber(step.statuses["202"] ?? 0),
        lost: String(step.missingAccepted + step.neverSettled + step.settledLate),
        "stack CPU": `${sum(PARTS.map((part) => step.cpuPercent[part])).toFixed(0)}%`,
        "generator CPU": step.generatorCpuPercent.map((p) => `${p.toFixed(0)}%`).join(" / "),
        "other CPU": `${step.otherCpuPercent.toFixed(0)}%${disturbed(step) ? " *" : ""}`,
        verdict: sloBreaks(step).length === 0 ? "held" : generatorBound(step) ? "broke (generator-bound)" : "broke",
      })),
    ),
  );
}

function printVerdict(steps: Step[]): void {
  console.log(`\n* others' work on the machine took more than ${DISTURBED_PERCENT}% of a core during the step (disturbed).`);
  console.log(`SLO: bet p99 < ${SLO.betP99Ms} ms, tick delay p99 < ${SLO.tickP99Ms} ms, no event lost, every player connected.`);
  console.log(held ? `The most players this machine held: ${formatNumber(held.players)}.` : "No step held the SLO.");
  const broke = steps.findLast((step) => sloBreaks(step).length > 0);
  if (broke && disturbed(broke)) {
    console.log(
      `The last step that broke, ${formatNumber(broke.players)} players (${sloBreaks(broke).join("; ")}), ran while others' work took ${broke.otherCpuPercent.toFixed(0)}% of a core: ` +
        `the figure is what this shared machine held then, a floor for the machine itself.`,
    );
  }
  if (broke) {
    console.log(`Last step that broke: ${formatNumber(broke.players)} (${sloBreaks(broke).join("; ")}).`);
    console.log(
      generatorBound(broke)
        ? `At that step a client process was at ≥ ${GENERATOR_LIMIT_PERCENT}% of a core: the load generator, not only the server, limited the figure (it shares the ${cores} cores with the stack).`
        : `The generator stayed under ${GENERATOR_LIMIT_PERCENT}% of a core per process there: the limit is the stack's (on ${cores} cores shared with the generator).`,
    );
  }
}

interface PlayersProcess {
  pid: number;
  connected: Promise<PlayersConnected>;
  send(message: { type: "start"; since: number } | { type: "stop" } | { type: "exit" }): void;
  report(): Promise<PlayersReport>;
  exit(): Promise<void>;
}

function spawnPlayers(stack: CapacityStack, players: number): PlayersProcess[] {
  return Array.from({ length: processes }, (_, i) => {
    const share = Math.floor(players / processes) + (i < players % processes ? 1 : 0);
    let onConnected: (message: PlayersConnected) => void = () => {};
    let onReport: ((message: PlayersReport) => void) | undefined;
    const connected = new Promise<PlayersConnected>((resolve) => (onConnected = resolve));
    const proc = Bun.spawn(
      [process.execPath, `${import.meta.dir}/lib/capacity-players.ts`, "--url", stack.url, "--count", String(share), "--tap-every-ms", String(tapEveryMs), "--concurrency", String(concurrency)],
      {
        stdout: "inherit",
        stderr: "inherit",
        serialization: "json",
        ipc(message: PlayersConnected | PlayersReport) {
          if (message.type === "connected") onConnected(message);
          else onReport?.(message);
        },
      },
    );
    const died = proc.exited.then((code) => {
      throw new Error(`player process ${proc.pid} exited early with ${code}`);
    });
    died.catch(() => {});
    return {
      pid: proc.pid,
      connected: Promise.race([connected, died]),
      send: (message) => proc.send(message),
      report: () =>
        Promise.race([
          new Promise<PlayersReport>((resolve) => {
            onReport = resolve;
            proc.send({ type: "report", graceMs });
          }),
          died,
        ]),
      async exit() {
        if (proc.exitCode === null && proc.signalCode === null) proc.send({ type: "exit" });
        const timer = setTimeout(() => proc.kill("SIGKILL"), 5_000);
        await proc.exited;
        clearTimeout(timer);
      },
    };
  });
}
