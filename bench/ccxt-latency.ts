/**
 * Venue message → quote in the index, ours against ccxt (issue 12): one local
 * Coinbase double (test/support/venues/coinbase.ts) in this process sends
 * `ticker` messages on a fixed schedule to one client at a time, each client a
 * child process of its own (bench/lib/ticker-client.ts) so its CPU and memory
 * are read apart:
 *
 * - ours: the production adapter and connection (`protocolFor("coinbase")`
 *   through `connectVenue`), each quote handed to `createCompositeIndex`;
 * - ccxt: `new ccxt.pro.coinbaseexchange({ urls: { api: { ws: <double> } } })`
 *   (installed from the npm registry into a temp folder, as bench/ccxt-cost.ts
 *   does; nothing is added to the project), a loop of
 *   `await exchange.watchTicker("BTC/USD")`, each ticker handed to the same index.
 *
 *   node_modules/.bin/bun bench/ccxt-latency.ts [--version 4.5.84] [--rounds 3] [--rate 50]
 *                                               [--duration 20] [--warmup 2] [--clients ours,ccxt]
 *                                               [--quiet-wait 20] [--quiet-below 25] [--json out.json]
 *
 * The latency, defined: message n carries the price 60,000 + n dollars, so the
 * quote a client observes names its message; its latency is the time from the
 * double's send (`performance.timeOrigin + performance.now()` in this process,
 * just before the frame is written) to the moment the index has observed the
 * quote (the same clock in the child): the socket, the client's parsing and,
 * for ccxt, its ticker normalisation and the promise's resolution. Messages
 * come every 1000/rate ms; the first `--warmup` seconds of each run are not
 * counted. Rounds alternate which client goes first, so slow phases of a
 * shared machine fall on both. A message a client never observed (ccxt's loop
 * can miss one that arrives before it calls `watchTicker` again) counts in
 * "seen" and not in the latencies. Also shown: each client's CPU during the
 * measured messages (all its threads, from /proc/PID/task/TID/schedstat: % of a
 * core, and that divided by the messages, fixed costs included), its idle CPU
 * (2 s with no messages just before the run), its RSS at the end and its peak
 * (VmHWM), the machine's busy share during the messages and the load average.
 *
 * ccxt needs two things a real deployment would not: its markets, which it
 * fetches over REST, are set by hand (`setMarkets`, the double serves no
 * REST), and `loadHttpProxyAgent()` is called first because it refuses a
 * plain ws:// URL otherwise (Bun's WebSocket does not use the agent).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startCoinbaseDouble } from "../test/support/venues/coinbase.ts";
import { waitFor } from "../test/support/wait.ts";
import { listOf, positiveInt } from "./lib/args.ts";
import { describeMachine } from "./lib/machine.ts";
import { readMachineCpu, readMemory } from "./lib/proc-stats.ts";
import { waitForQuiet } from "./lib/quiet.ts";
import { median } from "./lib/stats.ts";
import { formatNumber, formatTable } from "./lib/table.ts";

const CLIENTS = ["ours", "ccxt"] as const;
type Client = (typeof CLIENTS)[number];

const { values: args } = parseArgs({
  options: {
    version: { type: "string", default: "4.5.84" },
    rounds: { type: "string", default: "3" },
    rate: { type: "string", default: "50" },
    duration: { type: "string", default: "20" },
    warmup: { type: "string", default: "2" },
    clients: { type: "string", default: "ours,ccxt" },
    "quiet-wait": { type: "string", default: "20" },
    "quiet-below": { type: "string", default: "25" },
    json: { type: "string" },
  },
});
const rounds = positiveInt("rounds", args.rounds);
const rate = positiveInt("rate", args.rate);
const duration = positiveInt("duration", args.duration);
const warmup = Number(args.warmup);
if (!(Number.isFinite(warmup) && warmup >= 0)) throw new RangeError(`--warmup must be ≥ 0 seconds, not ${args.warmup}`);
const clients = listOf("clients", args.clients, CLIENTS);
const quietWait = positiveInt("quiet-wait", args["quiet-wait"]);
const quietBelow = positiveInt("quiet-below", args["quiet-below"]);

const BASE_PRICE = 60_000;
const periodMs = 1000 / rate;
const warmupCount = Math.round(warmup * rate);
const measuredCount = duration * rate;
const IDLE_MS = 2000;
const preciseNow = () => performance.timeOrigin + performance.now();
const uptime = () => Bun.spawnSync(["uptime"], { stdout: "pipe" }).stdout.toString().trim();

/** One client's run: its latencies (ms) and what it cost. */
interface Run {
  round: number;
  client: Client;
  latenciesMs: number[];
  sent: number;
  seen: number;
  cpuPercent: number;
  idleCpuPercent: number;
  cpuUsPerMessage: number;
  rssMib: number;
  peakRssMib: number;
  machineBusyPercent: number;
  quietBusyPercent: number;
  load1: number;
}

/** Reads a child's stdout as JSON lines. */
function jsonLines(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return async function next(): Promise<Record<string, unknown>> {
    for (;;) {
      const newline = buffer.indexOf("\n");
      if (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.startsWith("{")) return JSON.parse(line) as Record<string, unknown>;
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("the client exited before answering");
      buffer += decoder.decode(value, { stream: true });
    }
  };
}

/**
 * CPU seconds `pid` has run, summed over its threads, from /proc/PID/task/TID/schedstat
 * (nanoseconds; /proc/PID/stat counts 10 ms ticks, too coarse for a client that uses 1–3 % of a core).
 */
function readCpuSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns / 1e9;
}

/** Nearest-rank percentile of sorted `values`. */
const percentile = (sorted: readonly number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;

async function runOne(round: number, client: Client, ccxtDir: string): Promise<Run> {
  await using double = await startCoinbaseDouble({ heartbeatEveryMs: 1000 });
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "lib", "ticker-client.ts"), client, double.url, ccxtDir], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  try {
    const next = jsonLines(child.stdout);
    await next();
    await waitFor(`${client} subscribed`, () => double.clients.length > 0 && double.subscriptions.some((s) => s.accepted), 30_000, 10);
    // Let the client's first frames (the ack) pass before the machine is judged quiet.
    await Bun.sleep(300);
    const quiet = await waitForQuiet({ maxBusyPercent: quietBelow, maxWaitSeconds: quietWait });
    // The client's own cost with no messages (its timers, runtime threads), over the next IDLE_MS.
    const idleBefore = readCpuSeconds(child.pid);
    const idleStart = preciseNow();
    await Bun.sleep(IDLE_MS);
    // A runtime thread that ends within the window drops out of the sum: never below zero.
    const idleCpuPercent = Math.max(0, ((readCpuSeconds(child.pid) - idleBefore) / ((preciseNow() - idleStart) / 1000)) * 100);

    const total = warmupCount + measuredCount;
    const sentAt = new Float64Array(total);
    const t0 = preciseNow() + 50;
    let cpuBefore = 0;
    let machineBefore = readMachineCpu();
    let windowStart = 0;
    for (let seq = 0; seq < total; seq++) {
      const plannedAt = t0 + seq * periodMs;
      if (seq === warmupCount) {
        cpuBefore = readCpuSeconds(child.pid);
        machineBefore = readMachineCpu();
        windowStart = preciseNow();
      }
      // A timer gets within about a millisecond; a short spin makes the send time exact.
      const coarse = Math.floor(plannedAt - preciseNow() - 1);
      if (coarse > 0) await Bun.sleep(coarse);
      while (preciseNow() < plannedAt);
      const price = BASE_PRICE + seq;
      sentAt[seq] = preciseNow();
      double.quote({ bid: price - 0.5, ask: price + 0.5 });
    }
    // One period for the last message to arrive, then the window closes.
    await Bun.sleep(Math.max(50, periodMs));
    const cpuSeconds = readCpuSeconds(child.pid) - cpuBefore;
    const machineAfter = readMachineCpu();
    const wallSeconds = (preciseNow() - windowStart) / 1000;
    const memory = readMemory(child.pid);

    child.stdin.write("report\n");
    child.stdin.flush();
    let report = await next();
    while (report.type !== "report") report = await next();
    const latenciesMs: number[] = [];
    let seen = 0;
    for (const [last, at] of report.seen as [number, number][]) {
      const seq = Math.round(last - BASE_PRICE);
      if (seq < warmupCount || seq >= total) continue;
      seen++;
      latenciesMs.push(at - sentAt[seq]!);
    }
    return {
      round,
      client,
      latenciesMs,
      sent: measuredCount,
      seen,
      cpuPercent: (cpuSeconds / wallSeconds) * 100,
      idleCpuPercent,
      cpuUsPerMessage: (cpuSeconds * 1e6) / measuredCount,
      rssMib: memory.rssKb / 1024,
      peakRssMib: memory.peakKb / 1024,
      machineBusyPercent: ((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 100,
      quietBusyPercent: quiet.busyPercent,
      load1: loadavg()[0]!,
    };
  } finally {
    child.kill();
    await child.exited;
  }
}

function installCcxt(dir: string) {
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "ccxt-latency", private: true, type: "module" }));
  process.stderr.write(`installing ccxt@${args.version} in ${dir}\n`);
  const result = Bun.spawnSync(["npm", "install", "--no-audit", "--no-fund", `ccxt@${args.version}`], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`npm install failed (${result.exitCode}): ${result.stderr.toString().slice(-2000)}`);
}

const dir = mkdtempSync(join(tmpdir(), "tap-ccxt-latency-"));
try {
  if (clients.includes("ccxt")) installCcxt(dir);
  console.log(describeMachine());
  console.log(`ccxt ${args.version}; ${rounds} rounds × {${clients.join(", ")}}, ${rate} messages/s for ${duration} s after ${warmup} s of warm-up`);
  console.log(`uptime at start: ${uptime()}`);
  const runs: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? clients : [...clients].reverse();
    for (const client of order) {
      const run = await runOne(round, client, dir);
      runs.push(run);
      process.stderr.write(`round ${round} ${client}: p50 ${median(run.latenciesMs).toFixed(3)} ms, seen ${run.seen}/${run.sent}, CPU ${run.cpuPercent.toFixed(1)}%\n`);
    }
  }
  console.log(`uptime at end:   ${uptime()}\n`);

  const ms = (value: number) => formatNumber(value, 3);
  const rowOf = (label: Record<string, string>, latencies: number[], group: Run[]) => {
    const sorted = [...latencies].sort((a, b) => a - b);
    const sent = group.reduce((sum, run) => sum + run.sent, 0);
    const seen = group.reduce((sum, run) => sum + run.seen, 0);
    return {
      ...label,
      messages: `${formatNumber(seen)} / ${formatNumber(sent)}`,
      "p50 ms": ms(percentile(sorted, 0.5)),
      "p99 ms": ms(percentile(sorted, 0.99)),
      "max ms": ms(sorted.at(-1) ?? Number.NaN),
      "client CPU": `${formatNumber(median(group.map((run) => run.cpuPercent)), 2)}%`,
      "idle CPU": `${formatNumber(median(group.map((run) => run.idleCpuPercent)), 2)}%`,
      "CPU µs/msg": formatNumber(median(group.map((run) => run.cpuUsPerMessage)), 1),
      "RSS MiB": formatNumber(median(group.map((run) => run.rssMib)), 1),
      "peak RSS MiB": formatNumber(Math.max(...group.map((run) => run.peakRssMib)), 1),
      "machine busy": `${formatNumber(median(group.map((run) => run.machineBusyPercent)), 0)}%`,
    };
  };
  const columns = ["messages", "p50 ms", "p99 ms", "max ms", "client CPU", "idle CPU", "CPU µs/msg", "RSS MiB", "peak RSS MiB", "machine busy"];
  console.log("All rounds (latencies pooled; CPU, RSS and machine busy: median of the runs; peak RSS: the highest):\n");
  console.log(
    formatTable(
      ["client", ...columns],
      clients.map((client) => {
        const group = runs.filter((run) => run.client === client);
        return rowOf({ client }, group.flatMap((run) => run.latenciesMs), group);
      }),
    ),
  );
  console.log("\nEvery run:\n");
  console.log(
    formatTable(
      ["round", "client", ...columns, "busy before", "load 1 min"],
      runs.map((run) => ({
        ...rowOf({ round: String(run.round), client: run.client }, run.latenciesMs, [run]),
        "busy before": `${formatNumber(run.quietBusyPercent, 0)}%`,
        "load 1 min": formatNumber(run.load1, 2),
      })),
    ),
  );
  if (args.json) writeFileSync(args.json, JSON.stringify({ version: args.version, rate, duration, warmup, runs }, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
