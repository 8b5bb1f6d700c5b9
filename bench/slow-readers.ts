/**
 * Slow readers (issue 11): what N clients that stop reading their sockets cost
 * the host, and whether and when ws drops them.
 *
 *   bun bench/slow-readers.ts [--clients 200] [--duration 45] [--via nginx,direct]
 *                             [--ticks-per-s 1] [--grids-per-s 1] [--readers 2]
 *                             [--sample-ms 1000] [--settle 30] [--build compiled|source]
 *                             [--ws-env NAME=VALUE …] [--json out.json]
 *
 * Per run: a private redis-server; ws (dist/bin/ws, or `bun ws/main.ts` with
 * `--build source`); nginx in front as in production (nginx/tap-trading.conf
 * rendered by test/support/nginx.ts) unless the run is `direct`; ticks on
 * `prices:btc:usd` and a priced grid (api's buildGrid, default settings, compact) on
 * `grid:btc:usd` at the production rates of 1/s each, or faster with the
 * flags. `--readers` normal clients read everything (they must stay connected);
 * then `--clients` slow readers do the handshake, subscribe to the grid and
 * never read again (test/support/slow-reader.ts), from 127.0.0.2… (50 per address,
 * under nginx's 100 websockets per address). For `--duration` s the host's
 * memory is sampled: /proc/net/sockstat's TCP `mem` pages × 4096 (every TCP
 * buffer on the machine, the slow readers' own receive buffers included),
 * /proc/meminfo's MemAvailable, the RSS of ws and of nginx (master + worker),
 * and where the queued bytes sit (`ss -tnm`: ws's sockets, nginx's, the
 * clients'). Then the slow readers are destroyed, and the script waits (up to
 * `--settle` s) for the TCP memory to come back. Prints before / peak / end of
 * load / after, and the connections ws closed (from its log: why, and how long
 * after they opened). Everything listens on 127.0.0.1 and stops by itself.
 */
import { RedisClient } from "bun";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildGrid, defaultGridSettings } from "../api/grid/build-grid.ts";
import { Channels } from "../common/channels.ts";
import type { Grid } from "../common/contracts/grid.ts";
import { compactGrid } from "../common/grid-codec.ts";
import { scrapeValue } from "../common/metrics/samples.ts";
import { fromCents } from "../common/money.ts";
import { findNginx } from "../nginx/render.ts";
import { startNginx, type TestNginx } from "../test/support/nginx.ts";
import { freePort } from "../test/support/ports.ts";
import { openSlowReader, type SlowReader } from "../test/support/slow-reader.ts";
import { waitFor } from "../test/support/wait.ts";
import { listOf, positiveInt } from "./lib/args.ts";
import { PAGE_BYTES, readMeminfo, readSocketMemory, readTcpSockstat, treeRssKb } from "./lib/host-memory.ts";
import { checkConnectionLimits } from "./lib/limits.ts";
import { describeMachine } from "./lib/machine.ts";
import { startRedis } from "./lib/redis-server.ts";
import { buildOf, buildOurs, type RunningServer, startWs } from "./lib/servers.ts";
import { formatNumber, formatTable } from "./lib/table.ts";

const VIAS = ["nginx", "direct"] as const;
type Via = (typeof VIAS)[number];
/** Slow readers per source address: nginx lets one address hold 100 websockets. */
const PER_ADDRESS = 50;
const MIB = 1024 * 1024;

const { values: args } = parseArgs({
  options: {
    clients: { type: "string", default: "200" },
    duration: { type: "string", default: "45" },
    via: { type: "string", default: "nginx,direct" },
    "ticks-per-s": { type: "string", default: "1" },
    "grids-per-s": { type: "string", default: "1" },
    readers: { type: "string", default: "2" },
    "sample-ms": { type: "string", default: "1000" },
    settle: { type: "string", default: "30" },
    build: { type: "string", default: "compiled" },
    "ws-env": { type: "string", multiple: true, default: [] },
    json: { type: "string" },
  },
});
const clients = positiveInt("clients", args.clients);
const durationS = positiveInt("duration", args.duration);
const vias = listOf("via", args.via, VIAS);
const ticksPerS = positiveInt("ticks-per-s", args["ticks-per-s"]);
const gridsPerS = positiveInt("grids-per-s", args["grids-per-s"]);
const readers = positiveInt("readers", args.readers);
const sampleMs = positiveInt("sample-ms", args["sample-ms"]);
const settleS = positiveInt("settle", args.settle);
const build = buildOf(args.build, []);
const wsEnv = Object.fromEntries(
  (args["ws-env"] as string[]).map((pair) => {
    const at = pair.indexOf("=");
    if (at < 1) throw new RangeError(`--ws-env must be NAME=VALUE, not ${pair}`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  }),
);
if (clients > 50 * PER_ADDRESS) throw new RangeError(`--clients must be at most ${50 * PER_ADDRESS}`);
if (vias.includes("nginx") && !findNginx()) throw new Error("nginx is not installed (apt-get install nginx), or run --via direct");
const problems = checkConnectionLimits(clients * 3, 1);
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}

/** One reading of the host. */
interface Sample {
  atS: number;
  tcpBytes: number;
  orphans: number;
  availableBytes: number;
  wsRssBytes: number;
  nginxRssBytes: number;
  /** Bytes in socket queues, by whose socket holds them. */
  queued: { ws: number; nginx: number; clients: number };
  connections: number;
}

interface Closed {
  closedBy: string;
  code: number;
  durationS: number;
  duringLoad: boolean;
}

interface RunResult {
  via: Via;
  gridBytes: number;
  before: Sample;
  peak: Sample;
  end: Sample;
  after: Sample;
  settledInS: number;
  samples: Sample[];
  closed: Closed[];
  readersOpen: number;
  readerMessages: number[];
  slowReadersOpened: number;
}

console.log(describeMachine());
console.log(
  `load:    ${clients} slow readers + ${readers} reading client(s); ${ticksPerS} tick/s and ${gridsPerS} grid/s; ${durationS} s; ` +
    `ws as ${build === "compiled" ? "dist/bin/ws (compiled)" : "bun ws/main.ts"}${Object.keys(wsEnv).length ? ` with ${JSON.stringify(wsEnv)}` : ""}\n`,
);
if (build === "compiled") buildOurs("ws");

const results: RunResult[] = [];
for (const via of vias) results.push(await run(via));

for (const result of results) report(result);
if (args.json) writeFileSync(args.json, JSON.stringify({ clients, durationS, ticksPerS, gridsPerS, wsEnv, results }, null, 2));

async function run(via: Via): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "tap-bench-slow-"));
  const slow: SlowReader[] = [];
  const reading: { ws: WebSocket; messages: number; open: boolean }[] = [];
  let nginx: TestNginx | undefined;
  let ws: RunningServer | undefined;
  let publishing: Timer | undefined;
  try {
    await using redis = await startRedis();
    const publisher = new RedisClient(redis.url);
    ws = await startWs("ours", { redis, dir, logs: "file", build, env: wsEnv });
    const wsPid = ws.pid;
    await waitFor(
      "ws to subscribe to the price and grid channels",
      async () => {
        const counts = (await publisher.send("PUBSUB", ["NUMSUB", Channels.priceTicks, Channels.grid])) as (string | number)[];
        return Number(counts[1]) >= 1 && Number(counts[3]) >= 1;
      },
      15_000,
    );
    if (via === "nginx") nginx = await startNginx({ apiPort: await freePort(), wsPort: ws.port });
    const frontPort = nginx?.port ?? ws.port;
    const nginxPid = nginx ? Number(readFileSync(join(nginx.prefix, "nginx.pid"), "utf8").trim()) : undefined;

    // The production feed: a tick and a priced grid (compact, as the api publishes it), each at its own rate.
    let price = 42_000;
    const gridMessage = () => {
      const now = Date.now();
      const priceCents = Math.round(price * 100);
      const grid: Grid = {
        ts: now,
        price,
        price_ts: now,
        sigma: 0.0005,
        quote_id: now.toString(36),
        expires_at: now + 1000,
        column_ms: defaultGridSettings.columnMs,
        band: fromCents(defaultGridSettings.bandCents),
        lock_ms: defaultGridSettings.lockMs,
        house_edge: defaultGridSettings.houseEdge,
        min_rtp: defaultGridSettings.minRtp,
        cells: buildGrid(now, priceCents, 0.0005, defaultGridSettings).map((cell) => ({
          t_start: cell.t_start,
          t_end: cell.t_end,
          price_low: fromCents(cell.lowCents),
          price_high: fromCents(cell.highCents),
          multiplier: cell.multiplier,
          rtp: cell.rtp,
          offered: cell.offered,
          locked: cell.locked,
        })),
      };
      return JSON.stringify(compactGrid(grid));
    };
    const gridBytes = Buffer.byteLength(gridMessage());
    const started = performance.now();
    let ticksSent = 0;
    let gridsSent = 0;
    const publish = () => {
      const elapsedS = (performance.now() - started) / 1000;
      while (ticksSent < Math.floor(elapsedS * ticksPerS) + 1) {
        ticksSent++;
        price = Math.round((price + (Math.random() - 0.5) * 20) * 100) / 100;
        publisher.publish(Channels.priceTicks, JSON.stringify({ symbol: "BTC-USD", price, ts: Date.now() })).catch(() => {});
      }
      while (gridsSent < Math.floor(elapsedS * gridsPerS) + 1) {
        gridsSent++;
        publisher.publish(Channels.grid, gridMessage()).catch(() => {});
      }
    };
    publish();
    publishing = setInterval(publish, Math.max(10, Math.floor(1000 / Math.max(ticksPerS, gridsPerS) / 2)));

    const frontUrl = `ws://127.0.0.1:${frontPort}/ws`;
    for (let i = 0; i < readers; i++) {
      const socket = new WebSocket(frontUrl);
      const entry = { ws: socket, messages: 0, open: false };
      socket.addEventListener("message", () => entry.messages++);
      socket.addEventListener("close", () => (entry.open = false));
      await new Promise<void>((resolve, reject) => {
        socket.addEventListener("open", () => resolve(), { once: true });
        socket.addEventListener("error", () => reject(new Error(`reading client could not open ${frontUrl}`)), { once: true });
      });
      entry.open = true;
      socket.send('{"type":"subscribe","channel":"grid"}');
      reading.push(entry);
    }
    await Bun.sleep(2_000);

    const sample = (atS: number): Sample => {
      const byPort = { ws: 0, nginx: 0, clients: 0 };
      for (const socket of readSocketMemory()) {
        if (socket.local === ws!.port) byPort.ws += socket.bytes;
        else if (nginx && (socket.local === nginx.port || socket.peer === ws!.port)) byPort.nginx += socket.bytes;
        else if (socket.peer === frontPort) byPort.clients += socket.bytes;
      }
      const tcp = readTcpSockstat();
      return {
        atS,
        tcpBytes: tcp.memPages * PAGE_BYTES,
        orphans: tcp.orphan,
        availableBytes: readMeminfo().availableKb * 1024,
        wsRssBytes: treeRssKb(wsPid) * 1024,
        nginxRssBytes: nginxPid ? treeRssKb(nginxPid) * 1024 : 0,
        queued: byPort,
        connections: 0,
      };
    };
    const connections = async () => {
      try {
        return (await scrapeValue(`${ws!.baseUrl}/metrics`, "tap_ws_connections")) ?? Number.NaN;
      } catch {
        return Number.NaN;
      }
    };
    const before = { ...sample(0), connections: await connections() };

    // The slow readers, a few at a time, each from a 127.0.0.x address of its own group.
    const loadStart = performance.now();
    const sinceLoad = () => (performance.now() - loadStart) / 1000;
    for (let i = 0; i < clients; i += 20) {
      const batch = Array.from({ length: Math.min(20, clients - i) }, (_, j) =>
        openSlowReader({ port: frontPort, localAddress: `127.0.0.${2 + Math.floor((i + j) / PER_ADDRESS)}`, commands: ['{"type":"subscribe","channel":"grid"}'] }),
      );
      slow.push(...(await Promise.all(batch)));
    }
    console.log(`${via}: ${slow.length} slow readers open in ${sinceLoad().toFixed(1)} s; grid message ${formatNumber(gridBytes)} bytes`);

    const samples: Sample[] = [];
    let peak = before;
    const hostAdded = (s: Sample) => s.tcpBytes + s.wsRssBytes + s.nginxRssBytes;
    while (sinceLoad() < durationS) {
      await Bun.sleep(sampleMs - ((performance.now() - loadStart) % sampleMs));
      const now = { ...sample(sinceLoad()), connections: await connections() };
      samples.push(now);
      if (hostAdded(now) > hostAdded(peak)) peak = now;
      if (samples.length % Math.max(1, Math.round(5000 / sampleMs)) === 0) {
        console.log(
          `  t=${now.atS.toFixed(0).padStart(3)} s  TCP ${mib(now.tcpBytes)} MiB  ws ${mib(now.wsRssBytes)} MiB  nginx ${mib(now.nginxRssBytes)} MiB  ` +
            `queued ws/nginx/clients ${mib(now.queued.ws)}/${mib(now.queued.nginx)}/${mib(now.queued.clients)} MiB  connections ${now.connections}`,
        );
      }
    }
    const end = samples.at(-1) ?? before;
    const loadEndedAt = Date.now();

    // Done: the slow readers go, then the TCP memory is given time to come back.
    await Promise.all(slow.splice(0).map((reader) => reader.destroy()));
    const settleStart = performance.now();
    let after = sample(sinceLoad());
    while ((performance.now() - settleStart) / 1000 < settleS && after.tcpBytes > before.tcpBytes + MIB) {
      await Bun.sleep(500);
      after = sample(sinceLoad());
    }
    after = { ...after, connections: await connections() };
    const settledInS = (performance.now() - settleStart) / 1000;

    clearInterval(publishing);
    publishing = undefined;
    const readerMessages = reading.map((entry) => entry.messages);
    const readersOpen = reading.filter((entry) => entry.open).length;
    for (const entry of reading) entry.ws.close();
    publisher.close();
    await nginx?.stop();
    nginx = undefined;
    await ws.stop();
    const closed = readClosed(ws.logs.kind === "file" ? ws.logs.path : undefined, loadEndedAt);
    ws = undefined;
    return { via, gridBytes, before, peak, end, after, settledInS, samples, closed, readersOpen, readerMessages, slowReadersOpened: clients };
  } finally {
    if (publishing) clearInterval(publishing);
    await Promise.all(slow.map((reader) => reader.destroy()));
    for (const entry of reading) entry.ws.close();
    await nginx?.stop();
    await ws?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The "connection closed" lines of ws's log; `duringLoad` for those before the slow readers were destroyed. */
function readClosed(path: string | undefined, loadEndedAt: number): Closed[] {
  if (!path) return [];
  const closed: Closed[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.includes('"connection closed"')) continue;
    try {
      const record = JSON.parse(line) as { time: string; closed_by: string; code: number; duration_ms: number };
      closed.push({ closedBy: record.closed_by, code: record.code, durationS: record.duration_ms / 1000, duringLoad: Date.parse(record.time) <= loadEndedAt });
    } catch {
      // Not a JSON line.
    }
  }
  return closed;
}

function mib(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}

function report(result: RunResult): void {
  const { via, before, peak, end, after } = result;
  const host = (s: Sample) => s.tcpBytes + s.wsRssBytes + s.nginxRssBytes;
  console.log(`\n### ${via === "nginx" ? "through nginx" : "direct to ws"}: ${clients} slow readers, grid ${formatNumber(result.gridBytes)} bytes at ${gridsPerS}/s, ${ticksPerS} tick/s\n`);
  const row = (label: string, s: Sample) => ({
    "": label,
    "at s": label === "before" ? "–" : s.atS.toFixed(0),
    "TCP mem MiB": mib(s.tcpBytes),
    "ws RSS MiB": mib(s.wsRssBytes),
    "nginx RSS MiB": via === "nginx" ? mib(s.nginxRssBytes) : "–",
    "added MiB (TCP+ws+nginx)": label === "before" ? "–" : mib(host(s) - host(before)),
    "MemAvailable drop MiB": label === "before" ? "–" : mib(before.availableBytes - s.availableBytes),
    "queued ws / nginx / clients MiB": `${mib(s.queued.ws)} / ${via === "nginx" ? mib(s.queued.nginx) : "–"} / ${mib(s.queued.clients)}`,
    "TCP orphans": String(s.orphans),
    "ws connections": String(s.connections),
  });
  console.log(
    formatTable(
      ["", "at s", "TCP mem MiB", "ws RSS MiB", "nginx RSS MiB", "added MiB (TCP+ws+nginx)", "MemAvailable drop MiB", "queued ws / nginx / clients MiB", "TCP orphans", "ws connections"],
      [row("before", before), row("peak", peak), row("end of load", end), row(`after (${result.settledInS.toFixed(1)} s)`, after)],
    ),
  );
  const during = result.closed.filter((c) => c.duringLoad);
  const groups = new Map<string, number[]>();
  for (const c of during) groups.set(`${c.closedBy} (code ${c.code})`, [...(groups.get(`${c.closedBy} (code ${c.code})`) ?? []), c.durationS]);
  console.log(`\nclosed by ws during the load: ${during.length} of ${result.slowReadersOpened} slow readers`);
  for (const [why, durations] of groups) {
    durations.sort((a, b) => a - b);
    console.log(
      `  ${String(durations.length).padStart(4)} ${why}: after ${durations[0]!.toFixed(1)}–${durations.at(-1)!.toFixed(1)} s open (median ${durations[Math.floor(durations.length / 2)]!.toFixed(1)} s)`,
    );
  }
  console.log(`reading clients still open at the end: ${result.readersOpen} of ${result.readerMessages.length} (messages each: ${result.readerMessages.join(", ")})`);
  const added = host(peak) - host(before);
  console.log(`${added < 64 * MIB ? "MET   " : "MISSED"} ${clients} slow readers add < 64 MiB (TCP + ws + nginx, peak − before): ${mib(added)} MiB`);
}
