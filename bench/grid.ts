/**
 * Grid computation: `buildGrid` with the default settings (12 columns × 21
 * bands, every cell priced), target < 5 ms per grid. Single-threaded, in this
 * process, timed per call and in CPU time; a few spot prices and volatilities
 * so the pricing takes its different paths.
 *
 *   bun bench/grid.ts [--calls 5000]
 */
import { parseArgs } from "node:util";
import { buildGrid, defaultGridSettings } from "../api/grid/build-grid.ts";
import { describeMachine } from "./lib/machine.ts";

const { values: args } = parseArgs({ options: { calls: { type: "string", default: "5000" } } });
const calls = Number(args.calls);
if (!Number.isInteger(calls) || calls < 1) throw new RangeError(`--calls must be a positive integer, not ${args.calls}`);
const TARGET_MS = 5;
const inputs = [
  { priceCents: 4_200_000, sigma: 0.0001 },
  { priceCents: 4_213_517, sigma: 0.0005 },
  { priceCents: 9_876_543, sigma: 0.002 },
];

let cells = 0;
// Warm-up: let the JIT settle before timing.
for (let i = 0; i < 500; i++) cells += buildGrid(Date.now(), inputs[i % 3]!.priceCents, inputs[i % 3]!.sigma, defaultGridSettings).length;

const times: number[] = [];
const cpuBefore = process.cpuUsage();
const wallBefore = performance.now();
for (let i = 0; i < calls; i++) {
  const input = inputs[i % inputs.length]!;
  const started = performance.now();
  cells += buildGrid(Date.now(), input.priceCents, input.sigma, defaultGridSettings).length;
  times.push(performance.now() - started);
}
const wallMs = performance.now() - wallBefore;
const cpu = process.cpuUsage(cpuBefore);
const cpuMsPerGrid = (cpu.user + cpu.system) / 1000 / calls;
times.sort((a, b) => a - b);
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const p50 = percentile(times, 50);
const p99 = percentile(times, 99);

console.log(describeMachine());
console.log(
  `buildGrid, default settings (${defaultGridSettings.columns} columns × ${2 * defaultGridSettings.rowsEachSide + 1} bands), ${calls} calls, ` +
    `${Math.round(cells / (calls + 500))} cells per grid:`,
);
console.log(`  p50 ${(p50 * 1000).toFixed(0)} µs, p99 ${(p99 * 1000).toFixed(0)} µs, max ${(times.at(-1)! * 1000).toFixed(0)} µs per grid (wall)`);
console.log(`  ${(cpuMsPerGrid * 1000).toFixed(0)} µs CPU per grid (${(((cpuMsPerGrid * calls) / wallMs) * 100).toFixed(0)}% of one core while timing)`);
console.log(`${p99 < TARGET_MS ? "MET   " : "MISSED"} grid computation < ${TARGET_MS} ms: p99 ${(p99 * 1000).toFixed(0)} µs`);
