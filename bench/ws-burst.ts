/**
 * A websocket server's memory through a connection burst: every client
 * connecting at once, then a few seconds of ticks. Quicker than ws-fanout.ts
 * (which also measures delivery and CPU), for working on memory.
 *
 *   bun bench/ws-burst.ts [--clients 5000] [--runs 3] [--ticks 100] [--rate 20]
 *                         [--servers ours] [--build compiled|source] [--bun-flags=…]
 *
 * Per run: a fresh server; its VmRSS sampled every 50 ms; reported idle (before
 * any client), peak (VmHWM, wherever it fell), connected (1 s after the last
 * client opened) and after the ticks, each with its anonymous and file-backed
 * parts. Ours runs as dist/bin/ws unless `--build source`, as in ws-fanout.ts.
 * "peak" is the kernel's VmHWM; "highest sample" is the largest VmRSS read every
 * 50 ms. The kernel syncs its counters lazily, so the two can differ by a
 * fraction of a MB either way.
 */
import { RedisClient } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { waitFor } from "../test/support/wait.ts";
import { buildGoPeer, type GoPeer } from "./lib/go-peer.ts";
import { checkConnectionLimits } from "./lib/limits.ts";
import { describeMachine } from "./lib/machine.ts";
import { type Memory, readMemory } from "./lib/proc-stats.ts";
import { startRedis } from "./lib/redis-server.ts";
import { listOf, positiveInt } from "./lib/args.ts";
import { buildOf, buildOurs, IMPLEMENTATIONS, type Implementation, startWs } from "./lib/servers.ts";
import { formatTable } from "./lib/table.ts";
import { spawnClientProcesses } from "./lib/ws-load.ts";

const CHANNEL = "prices:btc:usd";

const { values: args } = parseArgs({
  options: {
    clients: { type: "string", default: "5000" },
    runs: { type: "string", default: "3" },
    ticks: { type: "string", default: "100" },
    rate: { type: "string", default: "20" },
    processes: { type: "string", default: "2" },
    servers: { type: "string", default: "ours" },
    build: { type: "string", default: "compiled" },
    "bun-flags": { type: "string", default: "" },
  },
});
const clients = positiveInt("clients", args.clients);
const runs = positiveInt("runs", args.runs);
const ticks = positiveInt("ticks", args.ticks);
const rate = positiveInt("rate", args.rate);
const processes = positiveInt("processes", args.processes);
const servers = listOf("servers", args.servers, IMPLEMENTATIONS);
const bunFlags = args["bun-flags"].split(/\s+/).filter(Boolean);
const build = buildOf(args.build, bunFlags);

const problems = checkConnectionLimits(clients, processes);
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}

interface BurstRun {
  server: Implementation;
  run: number;
  idle: Memory;
  connected: Memory;
  afterTicks: Memory;
  /** The highest VmRSS sampled, with its parts. */
  highest: Memory;
  peakAtSeconds: number;
}

console.log(describeMachine());
console.log(
  `load:    ${clients} clients at once over ${processes} process(es), then ${ticks} ticks at ${rate}/s; ${runs} run(s) per server; ` +
    `ours as ${build === "compiled" ? "dist/bin/ws (compiled)" : `bun ${[...bunFlags, "ws/main.ts"].join(" ")}`}\n`,
);
if (servers.includes("ours") && build === "compiled") buildOurs("ws");
const goPeer: GoPeer | undefined = servers.includes("go") ? buildGoPeer() : undefined;
const results: BurstRun[] = [];
try {
  await using redis = await startRedis();
  const publisher = new RedisClient(redis.url);
  for (let run = 1; run <= runs; run++) {
    for (const server of servers) {
      const dir = mkdtempSync(join(tmpdir(), `tap-bench-burst-${server}-`));
      try {
        await using ws = await startWs(server, { redis, goPeer, dir, logs: "file", bunFlags, build });
        await waitFor(
          "the server to subscribe to the price channel",
          async () => Number(((await publisher.send("PUBSUB", ["NUMSUB", CHANNEL])) as [string, number])[1]) >= 1,
          15_000,
        );
        await Bun.sleep(1_000);
        const result = await measure(server, run, ws.pid, ws.port, publisher);
        results.push(result);
        console.log(
          `run ${run} ${server.padEnd(4)} idle ${mb(result.idle.rssKb)}  peak ${mb(result.afterTicks.peakKb)} ` +
            `(at ${result.peakAtSeconds.toFixed(2)} s)  connected ${mb(result.connected.rssKb)}  after ticks ${mb(result.afterTicks.rssKb)} MB`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  publisher.close();
} finally {
  goPeer?.remove();
}

const COLUMNS = ["run", "server", "idle MB (anon + file)", "peak MB (VmHWM)", "highest sample MB (anon + file)", "connected MB", "after ticks MB"];
console.log();
console.log(
  formatTable(
    COLUMNS,
    results.map((r) => ({
      run: String(r.run),
      server: r.server,
      "idle MB (anon + file)": parts(r.idle),
      "peak MB (VmHWM)": mb(r.afterTicks.peakKb),
      "highest sample MB (anon + file)": parts(r.highest),
      "connected MB": parts(r.connected),
      "after ticks MB": parts(r.afterTicks),
    })),
  ),
);

async function measure(server: Implementation, run: number, pid: number, port: number, publisher: RedisClient): Promise<BurstRun> {
  const idle = readMemory(pid);
  let highest = idle;
  let peakAtSeconds = 0;
  const started = performance.now();
  const sampler = setInterval(() => {
    const now = readMemory(pid);
    if (now.rssKb > highest.rssKb) {
      highest = now;
      peakAtSeconds = (performance.now() - started) / 1000;
    }
  }, 50);
  const load = spawnClientProcesses(`ws://127.0.0.1:${port}/ws`, { clients, processes });
  try {
    const opened = (await Promise.all(load.map((part) => part.connected))).reduce((sum, report) => sum + report.opened, 0);
    if (opened < clients) console.warn(`  !! only ${opened} of ${clients} clients connected`);
    await Bun.sleep(1_000);
    const connected = readMemory(pid);
    let price = 42_000;
    for (let i = 0; i < ticks; i++) {
      price = Math.round((price + (Math.random() - 0.5) * 20) * 100) / 100;
      await publisher.publish(CHANNEL, JSON.stringify({ symbol: "BTC-USD", price, ts: Date.now() }));
      await Bun.sleep(1000 / rate);
    }
    await Bun.sleep(500);
    const afterTicks = readMemory(pid);
    return { server, run, idle, connected, afterTicks, highest, peakAtSeconds };
  } finally {
    clearInterval(sampler);
    await Promise.all(load.map((part) => part.exit()));
  }
}

function mb(kb: number): string {
  return (kb / 1024).toFixed(1);
}

function parts(memory: Memory): string {
  return `${mb(memory.rssKb)} (${mb(memory.anonKb)} + ${mb(memory.fileKb)})`;
}
