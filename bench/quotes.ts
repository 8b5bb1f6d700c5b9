/**
 * How often a quote still holds when the tap lands: the figure behind the
 * page's slippage default (docs/rules.md, "Quotes and slippage").
 *
 *   bun bench/quotes.ts [--taps 400] [--tappers 8] [--interval-ms 1000] [--volatility 0.0005] [--max-age-ms 1000]
 *
 * Starts a private redis-server, the real price service (the mock random walk
 * at `--interval-ms` and `--volatility`, `make run`'s defaults) and the API.
 * Each tap reads GET /api/grid, waits as long as the grid the page shows may
 * be old when the player taps it (uniform in 0..`--max-age-ms`: ws pushes one
 * grid a second), then bets $1 on a random unlocked cell within five bands of
 * the price with `min_multiplier` set to the multiplier it read. The answer
 * gives the multiplier at acceptance (202) or the one a refusal names (409
 * `quote_changed`). Only the strict share (0 %) is exact: a refusal names the
 * cell's quote (QUOTE_HORIZON_MS), at most its price of the instant, so the
 * other tolerances are lower bounds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Grid } from "../common/contracts/grid.ts";
import { freePort } from "../test/support/ports.ts";
import { positiveInt } from "./lib/args.ts";
import { BENCH_SESSION_SECRET, createSessions } from "./lib/authed-bets.ts";
import { describeMachine } from "./lib/machine.ts";
import { startRedis } from "./lib/redis-server.ts";
import { answersOk, startServerProcess } from "./lib/server-process.ts";
import { ROOT } from "./lib/servers.ts";
import { formatTable } from "./lib/table.ts";

const { values: args } = parseArgs({
  options: {
    taps: { type: "string", default: "400" },
    tappers: { type: "string", default: "8" },
    "interval-ms": { type: "string", default: "1000" },
    volatility: { type: "string", default: "0.0005" },
    "max-age-ms": { type: "string", default: "1000" },
  },
});
const taps = positiveInt("taps", args.taps);
const tappers = positiveInt("tappers", args.tappers);
const intervalMs = positiveInt("interval-ms", args["interval-ms"]);
const maxAgeMs = positiveInt("max-age-ms", args["max-age-ms"]);
const volatility = Number(args.volatility);
if (!(volatility >= 0 && volatility <= 0.1)) throw new RangeError(`--volatility must be in 0..0.1, not ${args.volatility}`);
const TOLERANCES = [0, 0.01, 0.02, 0.05, 0.1];
const BANDS_AROUND = 5;

const dir = mkdtempSync(join(tmpdir(), "bench-quotes-"));
const redis = await startRedis();
const [apiPort, pricePort] = [await freePort(), await freePort()];
const api = `http://127.0.0.1:${apiPort}`;
const bun = process.execPath;
const common = { REDIS_URL: redis.url, LOG_LEVEL: "warn" };
await using _price = await startServerProcess({
  label: "price",
  cmd: [bun, join(ROOT, "price/main.ts")],
  env: { ...common, PORT: String(pricePort), PRICE_INTERVAL_MS: String(intervalMs), PRICE_MOCK_VOLATILITY: String(volatility) },
  logs: { kind: "file", path: join(dir, "price.log") },
  ready: () => answersOk(`http://127.0.0.1:${pricePort}/healthz`),
});
await using _api = await startServerProcess({
  label: "api",
  cmd: [bun, join(ROOT, "api/main.ts")],
  env: { ...common, PORT: String(apiPort), DB_PATH: join(dir, "bets.db"), SESSION_SECRET: BENCH_SESSION_SECRET, BETS_PER_PLAYER_PER_S: "1000" },
  logs: { kind: "file", path: join(dir, "api.log") },
  ready: () => answersOk(`${api}/readyz`),
  readyTimeoutMs: 30_000,
});

const tokens = await createSessions(api, tappers);
/** current / shown for every tap that got an answer naming a multiplier. */
const ratios: number[] = [];
const others = new Map<string, number>();

async function tapOnce(token: string): Promise<void> {
  const answer = await fetch(`${api}/api/grid`);
  if (answer.status !== 200) {
    others.set(`grid ${answer.status}`, (others.get(`grid ${answer.status}`) ?? 0) + 1);
    return void (await Bun.sleep(100));
  }
  const grid = (await answer.json()) as Grid;
  const band = grid.band;
  const centre = Math.floor(grid.price / band) * band;
  await Bun.sleep(Math.random() * maxAgeMs);
  const open = grid.cells.filter((c) => !c.locked && c.offered && c.t_start - Date.now() > grid.lock_ms + 200 && Math.abs(c.price_low - centre) <= BANDS_AROUND * band);
  const cell = open[Math.floor(Math.random() * open.length)];
  if (!cell) return void others.set("no_cell", (others.get("no_cell") ?? 0) + 1);
  const response = await fetch(`${api}/api/bets`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({
      amount: 1,
      cell: { t_start: cell.t_start, t_end: cell.t_end, price_low: cell.price_low, price_high: cell.price_high },
      min_multiplier: cell.multiplier,
      quote_id: grid.quote_id,
    }),
  });
  const body = (await response.json()) as { multiplier?: number; error?: { code: string; current_multiplier?: number } };
  if (response.status === 202 && body.multiplier) return void ratios.push(body.multiplier / cell.multiplier);
  if (body.error?.code === "quote_changed" && body.error.current_multiplier) return void ratios.push(body.error.current_multiplier / cell.multiplier);
  const code = body.error?.code ?? String(response.status);
  others.set(code, (others.get(code) ?? 0) + 1);
}

let next = 0;
await Promise.all(
  tokens.map(async (token) => {
    while (next < taps) {
      next++;
      await tapOnce(token);
    }
  }),
);

const held = (tolerance: number) => ratios.filter((r) => r >= 1 - tolerance - 1e-9).length;
console.log(describeMachine());
console.log(`bun bench/quotes.ts --taps ${taps} --tappers ${tappers} --interval-ms ${intervalMs} --volatility ${volatility} --max-age-ms ${maxAgeMs}`);
console.log(`${ratios.length} taps answered with a multiplier; other answers: ${JSON.stringify(Object.fromEntries(others))}`);
console.log(
  formatTable(
    ["tolerance", "taps taken", "share"],
    TOLERANCES.map((tolerance) => ({
      tolerance: `${(tolerance * 100).toFixed(0)} %`,
      "taps taken": String(held(tolerance)),
      share: `${((held(tolerance) / Math.max(1, ratios.length)) * 100).toFixed(1)} %`,
    })),
  ),
);
const sorted = [...ratios].sort((a, b) => a - b);
const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]?.toFixed(3);
console.log(`current / shown: p10 ${at(0.1)}, p25 ${at(0.25)}, p50 ${at(0.5)}, p75 ${at(0.75)}, p90 ${at(0.9)}`);
await redis.stop();
rmSync(dir, { recursive: true, force: true });
