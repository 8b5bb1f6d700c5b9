import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { Channels } from "../common/channels.ts";
import type { BusTick } from "../common/contracts/price.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningService, spawnService } from "./support/service.ts";
import { startBitfinexDouble } from "./support/venues/bitfinex.ts";
import { startBitstampDouble } from "./support/venues/bitstamp.ts";
import { startCoinbaseDouble } from "./support/venues/coinbase.ts";
import type { VenueDoubleApi } from "./support/venues/double-api.ts";
import { startKrakenDouble } from "./support/venues/kraken.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

/**
 * Issue 12, "Recording and replay", end to end: four venue doubles →
 * `price/main.ts` (PRICE_SOURCE=venues, PRICE_RECORD_DIR) → a few seconds of
 * moving quotes, an outlier excluded and readmitted, Bitfinex dropped and
 * reconnected (a new channel id) → stop → `price replay <files>` rebuilds
 * exactly the ticks that were published, and says so with exit 0; a tick
 * altered in the recording makes it exit 1.
 */
const ROOT = join(import.meta.dir, "..");
const NAMES = ["coinbase", "kraken", "bitstamp", "bitfinex"] as const;
type Name = (typeof NAMES)[number];

let redis: TestRedis;
let listener: Redis;
let price: RunningService;
let dir: string;
const doubles = {} as Record<Name, VenueDoubleApi>;
const heard: BusTick[] = [];
let pump: ReturnType<typeof setInterval> | undefined;

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), "tap-recording-"));
  [doubles.coinbase, doubles.kraken, doubles.bitstamp, doubles.bitfinex] = await Promise.all([
    startCoinbaseDouble(),
    startKrakenDouble(),
    startBitstampDouble(),
    startBitfinexDouble(),
  ]);
  listener = new Redis(redis.url);
  listener.on("message", (_channel: string, message: string) => heard.push(JSON.parse(message) as BusTick));
  await listener.subscribe(Channels.priceTicks);
});

afterAll(async () => {
  if (pump) clearInterval(pump);
  listener?.disconnect();
  await price?.stop("SIGKILL");
  await Promise.all(NAMES.map((name) => doubles[name]?.stop()));
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `price replay <files>`, as the service's own command (the compiled binary when the tests run those). */
async function replay(files: string[]) {
  const binDir = process.env.SERVICE_BIN_DIR;
  const cmd = binDir ? [join(binDir, "price"), "replay", ...files] : [process.execPath, join(ROOT, "price", "main.ts"), "replay", ...files];
  const proc = Bun.spawn(cmd, { cwd: ROOT, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, lines: out.split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>), err };
}

const essentials = (tick: Record<string, unknown>) => ({ ts: tick.ts, seq: tick.seq, price: tick.price, venues: tick.venues, dispersion_bps: tick.dispersion_bps });

describe("recording the venues and replaying the recording", () => {
  test("the replay rebuilds exactly the ticks published, from several files, across a Bitfinex reconnect and an exclusion", async () => {
    // Each venue moves on its own every 50 ms: the index changes at nearly every tick.
    let step = 0;
    let outlier = false;
    pump = setInterval(() => {
      step++;
      NAMES.forEach((name, i) => {
        const mid = 42_000 + 7 * Math.sin(step / 5 + i) + i * 0.37 + (outlier && name === "bitfinex" ? 400 : 0);
        const bid = Math.round(mid * 100) / 100;
        doubles[name].quote({ bid, ask: Math.round((bid + 0.5 + i * 0.01) * 100) / 100, last: bid });
      });
    }, 50);
    const recordDir = join(dir, "recording");
    price = spawnService("price", {
      REDIS_URL: redis.url,
      PRICE_SOURCE: "venues",
      PRICE_INTERVAL_MS: "100",
      PRICE_VENUE_STALE_MS: "1000",
      PRICE_RECORD_DIR: recordDir,
      PRICE_RECORD_MAX_BYTES: "65536",
      PRICE_RECORD_FILES: "1000",
      ...Object.fromEntries(NAMES.map((name) => [`PRICE_VENUE_URL_${name.toUpperCase()}`, doubles[name].url])),
    });
    await waitFor("ticks from four venues", () => heard.filter((tick) => tick.venues === 4).length >= 5, 15_000);
    outlier = true;
    await waitFor("the outlier excluded", () => heard.at(-1)?.venues === 3, 10_000);
    outlier = false;
    await waitFor("the outlier readmitted", () => heard.at(-1)?.venues === 4, 10_000);
    doubles.bitfinex.dropAll();
    await waitFor("Bitfinex subscribed again", () => doubles.bitfinex.subscriptions.filter((s) => s.accepted).length >= 2, 15_000);
    const mark = heard.length;
    await waitFor("ticks from four venues after the reconnect", () => heard.slice(mark).filter((tick) => tick.venues === 4).length >= 5, 15_000);
    expect(await price.stop("SIGTERM")).toBe(0);
    clearInterval(pump);
    pump = undefined;

    const files = readdirSync(recordDir)
      .filter((name) => name.endsWith(".ndjson"))
      .map((name) => join(recordDir, name));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const recorded = files.flatMap((file) => readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>));
    expect(recorded.filter((line) => line.t === "open" && line.venue === "bitfinex")).toHaveLength(2);

    const result = await replay(files.toReversed());
    expect(result.err).toContain("rebuilt identically");
    expect(result.code).toBe(0);
    const rebuilt = result.lines.filter((line) => line.t === "tick");
    expect(rebuilt.length).toBe(heard.length);
    expect(rebuilt.map(essentials)).toEqual(heard.map((tick) => essentials(tick as unknown as Record<string, unknown>)));
    expect(new Set(heard.map((tick) => tick.price)).size).toBeGreaterThan(5);
    expect(heard.some((tick) => tick.venues === 3)).toBe(true);
    expect(result.lines.at(-1)).toMatchObject({ t: "summary", ticks: heard.length, ticks_differ: 0, computes_differ: 0, identical: true });

    // One tick's price altered by a cent: the replay says which, and exits 1.
    const victim = heard[Math.floor(heard.length / 2)] as BusTick;
    const tampered = files.map((file) => {
      const copy = join(dir, `tampered-${file.split("/").at(-1)}`);
      const text = readFileSync(file, "utf8")
        .split("\n")
        .map((line) => {
          if (!line.includes('"t":"tick"')) return line;
          const tick = JSON.parse(line) as BusTick;
          return tick.seq === victim.seq ? JSON.stringify({ ...tick, price: Math.round((tick.price + 0.01) * 100) / 100 }) : line;
        })
        .join("\n");
      writeFileSync(copy, text);
      return copy;
    });
    const altered = await replay(tampered);
    expect(altered.code).toBe(1);
    expect(altered.err).toContain(`tick seq ${victim.seq}`);
    expect(altered.lines.at(-1)).toMatchObject({ ticks_differ: 1, identical: false });
  }, 90_000);

  test("a bad recording setting stops the service with exit 78, naming the variable", async () => {
    for (const [name, value] of [
      ["PRICE_RECORD_DIR", "relative/dir"],
      ["PRICE_RECORD_MAX_BYTES", "10"],
      ["PRICE_RECORD_FILES", "0"],
    ] as const) {
      const service = spawnService("price", { REDIS_URL: redis.url, PRICE_SOURCE: "venues", [name]: value });
      expect(await service.proc.exited).toBe(78);
      const fatal = await service.waitForLog("the fatal line", (line) => line.level === "fatal");
      expect(fatal).toMatchObject({ component: "price", variable: name, value });
    }
  }, 20_000);
});
