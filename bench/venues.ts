/**
 * Venue message → index tick published (issue 12, "Speed"): four venue doubles
 * at 50 messages/s each feed the price service (`PRICE_SOURCE=venues`), and a
 * Redis subscriber times each tick. Targets: p99 under 5 ms; peak RSS of
 * dist/bin/price under 80 MB.
 *
 *   node_modules/.bin/bun bench/venues.ts [--ticks 200] [--interval 100] [--rate 50] [--lead 1]
 *                                         [--warmup 10] [--build compiled|source] [--quiet-wait 30]
 *                                         [--quiet-below 15] [--json out.json]
 *
 * A private redis-server, the price service as a real process (dist/bin/price,
 * rebuilt by scripts/build.sh when stale, or `bun price/main.ts` with
 * `--build source`), and the four doubles in a child process of their own
 * (bench/lib/venue-feed.ts), so their CPU is read apart and their sends do not
 * delay this process's reading of the ticks.
 *
 * The latency, defined: the price service computes the index when each grid
 * slot's timer fires (a multiple of PRICE_INTERVAL_MS) and publishes the tick.
 * The doubles send each message (the same price on all four venues) on a
 * schedule: one `--lead` ms before every slot, the rest every 1000/rate ms after
 * it. Message n's price is `base + n` dollars, so a tick's price (the median of
 * the four venues' mids) tells which messages it took: the newest message the
 * tick includes is the newest one at least two venues had delivered (the one
 * that moved the median). A tick's latency is the time from that message's send
 * (in the doubles' process) to the tick's arrival at a Redis subscriber on
 * `prices:btc:usd` (in this process): the whole path of socket, parse, index,
 * the slot's timer, the Redis transaction and the PUBLISH. It is never less than
 * the lead. If the lead message is not yet in the index when the slot computes,
 * the tick includes the message before it (one period older) and its latency
 * shows that. Also shown: slot → arrival (arrival − the tick's `ts`, its grid
 * time), and the share of ticks that included the lead message. Clocks: both
 * processes read `performance.timeOrigin + performance.now()` (the machine's
 * wall clock, sub-millisecond). A lead message still in transit at the slot
 * (the feed or the OS late; the probe here tells) cannot be in its tick: the
 * verdict counts those ticks all the same, and a line apart shows the ticks
 * whose lead message was delivered in time.
 */
import { RedisClient } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort } from "../test/support/ports.ts";
import { waitFor } from "../test/support/wait.ts";
import { positiveInt } from "./lib/args.ts";
import { describeMachine } from "./lib/machine.ts";
import { readMemory, startCpuMeter } from "./lib/proc-stats.ts";
import { waitForQuiet } from "./lib/quiet.ts";
import { startRedis } from "./lib/redis-server.ts";
import { startServerProcess } from "./lib/server-process.ts";
import { buildOf, buildOurs, ROOT } from "./lib/servers.ts";
import { formatNumber, formatTable } from "./lib/table.ts";
import { type FeedSend, preciseNow, type Schedule } from "./lib/venue-feed.ts";

const { values: args } = parseArgs({
  options: {
    ticks: { type: "string", default: "200" },
    interval: { type: "string", default: "100" },
    rate: { type: "string", default: "50" },
    lead: { type: "string", default: "1" },
    warmup: { type: "string", default: "10" },
    build: { type: "string", default: "compiled" },
    "quiet-wait": { type: "string", default: "30" },
    "quiet-below": { type: "string", default: "15" },
    json: { type: "string" },
  },
});
const ticks = positiveInt("ticks", args.ticks);
const intervalMs = positiveInt("interval", args.interval);
const rate = positiveInt("rate", args.rate);
const warmup = positiveInt("warmup", args.warmup);
const leadsMs = args.lead.split(",").map(Number);
if (leadsMs.some((lead) => !(lead >= 0 && lead < 1000 / rate))) throw new RangeError(`--lead must be ms in [0, ${1000 / rate}), comma-separated, not ${args.lead}`);
const build = buildOf(args.build, []);
const BASE = 60_000;
const TARGET_P99_MS = 5;
const TARGET_RSS_MB = 80;

console.log(describeMachine());
console.log(
  `price:   ${build === "compiled" ? "dist/bin/price (compiled)" : "bun price/main.ts"}, PRICE_SOURCE=venues, PRICE_INTERVAL_MS=${intervalMs}\n` +
    `load:    4 venues × ${rate} messages/s, lead ${leadsMs.join(",")} ms before each slot, ${ticks} ticks after ${warmup} warm-up\n`,
);
if (build === "compiled") buildOurs("price");

const dir = mkdtempSync(join(tmpdir(), "tap-bench-venues-"));
const redis = await startRedis();
const schedule: Schedule = { intervalMs, rate, slots: warmup + ticks, leadsMs, base: BASE };
const feed = Bun.spawn([process.execPath, join(import.meta.dir, "lib", "venue-feed.ts"), JSON.stringify(schedule)], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
const lines = readLines(feed.stdout as ReadableStream<Uint8Array>);
const subscriber = new RedisClient(redis.url);
/** ts → the tick and when it arrived. */
const arrivals = new Map<number, { price: number; venues: number | undefined; arrivedAt: number }>();
/** seq → when the probe client here received it. */
const probeAt = new Map<number, number>();
let probeSocket: WebSocket | undefined;
try {
  const ready = (await lines.next()).value as { type: "ready"; urls: Record<string, string> };
  // A probe: this process subscribes at the Coinbase double too and notes when each message
  // reaches it, to tell a message late leaving the feed from one late into the index.
  const probe = (probeSocket = new WebSocket(ready.urls.coinbase!));
  probe.onopen = () => probe.send(JSON.stringify({ type: "subscribe", product_ids: ["BTC-USD"], channels: ["ticker"] }));
  probe.onmessage = (event) => {
    const at = preciseNow();
    const message = JSON.parse(String(event.data)) as { type?: string; best_bid?: string };
    if (message.type === "ticker") probeAt.set(Number(message.best_bid) + 0.5 - BASE, at);
  };
  await subscriber.subscribe("prices:btc:usd", (message) => {
    const arrivedAt = preciseNow();
    const tick = JSON.parse(message) as { price: number; ts: number; venues?: number };
    arrivals.set(tick.ts, { price: tick.price, venues: tick.venues, arrivedAt });
  });
  const port = await freePort();
  const env: Record<string, string> = { PORT: String(port), REDIS_URL: redis.url, LOG_LEVEL: "info", PRICE_SOURCE: "venues", PRICE_INTERVAL_MS: String(intervalMs) };
  for (const [name, url] of Object.entries(ready.urls)) env[`PRICE_VENUE_URL_${name.toUpperCase()}`] = url;
  await using price = await startServerProcess({
    label: "price",
    cmd: build === "compiled" ? [join(ROOT, "dist", "bin", "price")] : [process.execPath, join(ROOT, "price", "main.ts")],
    cwd: ROOT,
    env,
    logs: { kind: "file", path: join(dir, "price.log") },
    // Any answer will do: /healthz says 503 until the venues have quoted.
    ready: async () => (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) })).status > 0,
  });
  const idleKb = readMemory(price.pid).rssKb;
  (await lines.next()).value as { type: "subscribed" };
  const quiet = await waitForQuiet({ maxBusyPercent: Number(args["quiet-below"]), maxWaitSeconds: Number(args["quiet-wait"]) });
  // The schedule starts once the price service has subscribed at every venue and the machine is quiet.
  feed.stdin.write("go\n");
  feed.stdin.flush();
  const { t0 } = (await lines.next()).value as { type: "started"; t0: number };
  const firstSlot = t0 + warmup * intervalMs;
  const lastSlot = t0 + (warmup + ticks - 1) * intervalMs;
  let peakSampledKb = 0;
  const sampler = setInterval(() => (peakSampledKb = Math.max(peakSampledKb, readMemory(price.pid).rssKb)), 50);
  await Bun.sleep(Math.max(0, firstSlot - intervalMs / 2 - Date.now()));
  const meter = startCpuMeter({ price: price.pid, feed: feed.pid, redis: redis.pid });
  // This process's own CPU (the subscriber), without its children.
  const benchBefore = process.cpuUsage();
  const done = (await lines.next()).value as { type: "done"; sends: FeedSend[]; frames: Record<string, number>; reconnects: Record<string, number> };
  done.reconnects.coinbase! -= 1; // the probe's connection
  await waitFor("the last tick", () => arrivals.has(lastSlot) || Date.now() > lastSlot + 3_000, 5_000, 5);
  const cpu = meter.stop();
  const benchUsage = process.cpuUsage(benchBefore);
  const benchCpuPercent = ((benchUsage.user + benchUsage.system) / 1e6 / cpu.wallSeconds) * 100;
  clearInterval(sampler);
  const memory = readMemory(price.pid);
  const log = await Bun.file(join(dir, "price.log")).text();

  const sentAt = new Map(done.sends.map((send) => [send.seq, send.sentAt]));
  const perSlot = intervalMs / (1000 / rate);
  const latencies: number[] = [];
  const slotToArrival: number[] = [];
  const byLead = new Map<number, { ticks: number; included: number; onTime: number; includedOnTime: number; latencies: number[] }>();
  const details: { ts: number; lead: number; effectiveLeadMs: number; probeBeforeSlotMs: number; newest: number; included: boolean; latencyMs: number; slotToArrivalMs: number }[] = [];
  let missing = 0;
  let undecodable = 0;
  let fewerVenues = 0;
  for (let slot = warmup; slot < warmup + ticks; slot++) {
    const ts = t0 + slot * intervalMs;
    const lead = leadsMs[slot % leadsMs.length]!;
    const row = byLead.get(lead) ?? { ticks: 0, included: 0, onTime: 0, includedOnTime: 0, latencies: [] };
    byLead.set(lead, row);
    row.ticks++;
    const tick = arrivals.get(ts);
    if (!tick) {
      missing++;
      continue;
    }
    if (tick.venues !== 4) fewerVenues++;
    // The median of four mids base + n: (b + c) / 2 for the two middle ones; its ceiling is c,
    // the newest message at least two venues had delivered.
    const median = tick.price - BASE;
    const newest = Math.ceil(median - 1e-6);
    const sent = sentAt.get(newest);
    if (!Number.isInteger(median * 2) || sent === undefined) {
      undecodable++;
      continue;
    }
    const latency = tick.arrivedAt - sent;
    latencies.push(latency);
    row.latencies.push(latency);
    slotToArrival.push(tick.arrivedAt - ts);
    // The lead message counts as sent on time when the feed sent it within 0.2 ms of its plan.
    const leadSend = done.sends[slot * perSlot]!;
    const onTime = leadSend.sentAt - leadSend.plannedAt < 0.2;
    const included = newest >= slot * perSlot;
    if (included) row.included++;
    if (onTime) row.onTime++;
    if (onTime && included) row.includedOnTime++;
    details.push({ ts, lead, effectiveLeadMs: ts - leadSend.sentAt, probeBeforeSlotMs: ts - (probeAt.get(slot * perSlot) ?? Number.NaN), newest, included, latencyMs: latency, slotToArrivalMs: tick.arrivedAt - ts });
  }
  const lateness = done.sends.map((send) => send.sentAt - send.plannedAt);
  const measuredSends = done.sends.filter((send) => send.plannedAt >= firstSlot - intervalMs);

  const pct = (values: number[], q: number) => percentile(values, q);
  const rows = [...byLead].sort(([a], [b]) => a - b).map(([lead, row]) => ({
    lead: `${lead} ms`,
    ticks: String(row.ticks),
    "lead msg included": `${((row.included / row.ticks) * 100).toFixed(1)}%`,
    "sent on time": String(row.onTime),
    "included of those": `${((row.includedOnTime / row.onTime) * 100).toFixed(1)}%`,
    "p50 ms": formatNumber(pct(row.latencies, 0.5), 2),
    "p99 ms": formatNumber(pct(row.latencies, 0.99), 2),
    "max ms": formatNumber(pct(row.latencies, 1), 2),
  }));
  const framesPerSecond = Object.entries(done.frames).map(([name, count]) => `${name} ${formatNumber(count / ((done.sends.length / perSlot) * intervalMs / 1000), 1)}/s`);
  const summary = {
    ticks: latencies.length,
    missing,
    undecodable,
    fewerVenues,
    latency: { p50: pct(latencies, 0.5), p99: pct(latencies, 0.99), max: pct(latencies, 1) },
    slotToArrival: { p50: pct(slotToArrival, 0.5), p99: pct(slotToArrival, 0.99), max: pct(slotToArrival, 1) },
    priceCpuPercent: cpu.percentOfCore.price,
    feedCpuPercent: cpu.percentOfCore.feed,
    redisCpuPercent: cpu.percentOfCore.redis,
    benchCpuPercent,
    machineBusyPercent: cpu.machineBusyPercent,
    priceCpuUsPerMessage: (cpu.cpuSeconds.price * 1e6) / (measuredSends.length * 4),
    peakRssMb: memory.peakKb / 1024,
    peakSampledRssMb: peakSampledKb / 1024,
    idleRssMb: idleKb / 1024,
    endRssMb: memory.rssKb / 1024,
    feedLatenessMs: { p99: pct(lateness, 0.99), max: pct(lateness, 1) },
    quiet,
    reconnects: done.reconnects,
    skippedInLog: (log.match(/skipping ticks/g) ?? []).length,
  };

  console.log(formatTable(["lead", "ticks", "lead msg included", "sent on time", "included of those", "p50 ms", "p99 ms", "max ms"], rows));
  console.log();
  console.log(
    formatTable(
      ["ticks timed", "msg → tick p50 ms", "p99 ms", "max ms", "slot → arrival p50 ms", "p99 ms ", "max ms ", "price CPU", "price CPU µs/venue msg", "feed CPU", "redis CPU", "bench CPU", "machine busy", "peak RSS MB", "RSS idle / end MB"],
      [
        {
          "ticks timed": `${latencies.length} / ${ticks}`,
          "msg → tick p50 ms": formatNumber(summary.latency.p50, 2),
          "p99 ms": formatNumber(summary.latency.p99, 2),
          "max ms": formatNumber(summary.latency.max, 2),
          "slot → arrival p50 ms": formatNumber(summary.slotToArrival.p50, 2),
          "p99 ms ": formatNumber(summary.slotToArrival.p99, 2),
          "max ms ": formatNumber(summary.slotToArrival.max, 2),
          "price CPU": `${summary.priceCpuPercent.toFixed(1)}%`,
          "price CPU µs/venue msg": formatNumber(summary.priceCpuUsPerMessage, 1),
          "feed CPU": `${summary.feedCpuPercent.toFixed(1)}%`,
          "redis CPU": `${summary.redisCpuPercent.toFixed(1)}%`,
          "bench CPU": `${summary.benchCpuPercent.toFixed(1)}%`,
          "machine busy": `${summary.machineBusyPercent.toFixed(0)}%`,
          "peak RSS MB": formatNumber(summary.peakRssMb, 1),
          "RSS idle / end MB": `${formatNumber(summary.idleRssMb, 1)} / ${formatNumber(summary.endRssMb, 1)}`,
        },
      ],
    ),
  );
  console.log(
    `\nframes sent: ${framesPerSecond.join(", ")}; feed send lateness p99 ${formatNumber(summary.feedLatenessMs.p99, 3)} ms, max ${formatNumber(summary.feedLatenessMs.max, 3)} ms; ` +
      `reconnects ${JSON.stringify(done.reconnects)}; ticks missing ${missing}, undecodable ${undecodable}, with < 4 venues ${fewerVenues}; ` +
      `"skipping ticks" lines in price's log ${summary.skippedInLog}; machine ${quiet.quiet ? "quiet" : "NOT quiet"} before (${quiet.busyPercent.toFixed(0)}% busy)`,
  );
  const notIncluded = details.filter((tick) => !tick.included);
  const probedEarly = notIncluded.filter((tick) => tick.probeBeforeSlotMs > 0);
  console.log(
    `lead message not in its tick: ${notIncluded.length} of ${details.length} ticks; in ${probedEarly.length} of them the probe here had it before the slot ` +
      `(median ${formatNumber(percentile(probedEarly.map((tick) => tick.probeBeforeSlotMs), 0.5), 2)} ms before; those ticks' slot → arrival median ${formatNumber(percentile(probedEarly.map((tick) => tick.slotToArrivalMs), 0.5), 2)} ms)`,
  );
  // The probe shares the machine with the price service: a lead message it had not received by
  // the slot was still in transit (the feed or the OS late), and no index could have held it.
  const delivered = details.filter((tick) => tick.probeBeforeSlotMs > 0);
  console.log(
    `ticks whose lead message had reached the probe before the slot: ${delivered.length} of ${details.length}; their msg → tick p99 ${formatNumber(percentile(delivered.map((tick) => tick.latencyMs), 0.99), 2)} ms, ` +
      `lead message included in ${delivered.filter((tick) => tick.included).length}`,
  );
  const verdict = (met: boolean, text: string) => console.log(`${met ? "MET   " : "MISSED"} ${text}`);
  verdict(summary.latency.p99 < TARGET_P99_MS && missing === 0 && undecodable === 0, `venue message → index tick published p99 < ${TARGET_P99_MS} ms: ${formatNumber(summary.latency.p99, 2)} ms over ${latencies.length} ticks (${missing} missing)`);
  verdict(summary.peakRssMb < TARGET_RSS_MB, `peak RSS (VmHWM) of ${build === "compiled" ? "dist/bin/price" : "bun price/main.ts"} < ${TARGET_RSS_MB} MB: ${formatNumber(summary.peakRssMb, 1)} MB`);
  const busiest = Math.max(summary.feedCpuPercent, summary.benchCpuPercent);
  console.log(busiest >= 85 ? `The generator side was the bottleneck: ${busiest.toFixed(0)}% of a core.` : `The generator was not the bottleneck: the feed process used ${summary.feedCpuPercent.toFixed(0)}% of a core, this process ${summary.benchCpuPercent.toFixed(0)}%.`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ args, summary, rows, details }, null, 2));
} finally {
  subscriber.close();
  probeSocket?.close();
  feed.kill("SIGTERM");
  await feed.exited;
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** The smallest value at or below which a fraction `q` of `values` lie; NaN when empty. */
function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The JSON lines a child prints, one parsed object per `next()`. */
async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line.startsWith("{")) yield JSON.parse(line);
      newline = buffered.indexOf("\n");
    }
  }
  throw new Error("the venue feed exited early");
}
