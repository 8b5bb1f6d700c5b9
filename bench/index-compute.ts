/**
 * The composite index's cost per tick (issue 12: O(venues) per tick):
 * `compute()` of price/index/composite-index.ts over N venues, each with a
 * fresh quote observed between computes, as the feeds do. Production has four
 * venues; the larger N (made-up names) show how the cost grows.
 *
 *   node_modules/.bin/bun bench/index-compute.ts [--calls 200000] [--venues 1,2,3,4,8,16,64,256] [--rounds 5]
 *
 * Per N: `--rounds` rounds of `--calls` computes (each after one `observe` per
 * venue), timed by wall clock and by this process's CPU; the median round is
 * shown, with the observes timed apart so they can be subtracted. Pure CPU, no
 * I/O: run it on a quiet machine.
 */
import { parseArgs } from "node:util";
import { createCompositeIndex } from "../price/index/mod.ts";
import type { VenueName } from "../price/venues/protocol.ts";
import { positiveInt } from "./lib/args.ts";
import { describeMachine } from "./lib/machine.ts";
import { median } from "./lib/stats.ts";
import { formatNumber, formatTable } from "./lib/table.ts";

const { values: args } = parseArgs({
  options: {
    calls: { type: "string", default: "200000" },
    venues: { type: "string", default: "1,2,3,4,8,16,64,256" },
    rounds: { type: "string", default: "5" },
  },
});
const calls = positiveInt("calls", args.calls);
const rounds = positiveInt("rounds", args.rounds);
const counts = args.venues.split(",").map((raw) => positiveInt("venues", raw));

console.log(describeMachine());
console.log(`${calls.toLocaleString("en-US")} computes × ${rounds} rounds per venue count\n`);

/** ns per iteration of `body` over `calls` iterations: wall and CPU. */
function time(body: (i: number) => void): { wallNs: number; cpuNs: number } {
  const cpu = process.cpuUsage();
  const started = Bun.nanoseconds();
  for (let i = 0; i < calls; i++) body(i);
  const wallNs = (Bun.nanoseconds() - started) / calls;
  const used = process.cpuUsage(cpu);
  return { wallNs, cpuNs: ((used.user + used.system) * 1000) / calls };
}

const rows: Record<string, string>[] = [];
let sink = 0;
for (const n of counts) {
  // Made-up names beyond the four real venues: the index only keys on them.
  const venues = Array.from({ length: n }, (_, i) => `venue${i}` as VenueName);
  const index = createCompositeIndex({ venues, minVenues: 1, staleMs: 60_000 });
  let at = Date.now();
  const observeAll = (i: number) => {
    at += 1;
    for (let v = 0; v < n; v++) {
      const mid = 60_000 + ((i + v) % 7);
      index.observe({ venue: venues[v]!, bid: mid - 0.5, ask: mid + 0.5, receivedAt: at });
    }
  };
  const both: number[] = [];
  const observeOnly: number[] = [];
  const cpuBoth: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const a = time((i) => {
      observeAll(i);
      sink += index.compute(at).price ?? 0;
    });
    const b = time(observeAll);
    both.push(a.wallNs);
    cpuBoth.push(a.cpuNs);
    observeOnly.push(b.wallNs);
  }
  const compute = median(both) - median(observeOnly);
  rows.push({
    venues: String(n),
    "observe×N + compute ns": formatNumber(median(both)),
    "(CPU ns)": formatNumber(median(cpuBoth)),
    "observe×N ns": formatNumber(median(observeOnly)),
    "compute ns": formatNumber(compute),
    "compute ns / venue": formatNumber(compute / n, 1),
  });
}
console.log(formatTable(["venues", "observe×N + compute ns", "(CPU ns)", "observe×N ns", "compute ns", "compute ns / venue"], rows));
if (sink === 42) console.log(""); // keeps the results alive
