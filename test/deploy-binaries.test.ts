/**
 * The compiled binaries stand alone: copied into an empty folder, far from
 * any node_modules, each starts and does its job.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Redis from "ioredis";
import { Channels } from "../common/channels.ts";
import { DEFAULT_METRICS } from "../common/metrics/registry.ts";
import { parseMetrics, sampleValue } from "../common/metrics/samples.ts";
import postgres from "postgres";
import { cellOf, getGrid, newSession, openCell, postBet } from "./support/api-client.ts";
import { freePort } from "./support/ports.ts";
import { createTempDatabase, postgresMissing } from "./support/postgres.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { TEST_SESSION_SECRET, waitForHttp } from "./support/service.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const pgMissing = await postgresMissing();
if (pgMissing && !process.env.CI) console.warn(`test/deploy-binaries.test.ts: the PostgreSQL case is skipped: ${pgMissing}`);

const ROOT = join(import.meta.dir, "..");
let redis: TestRedis;
let dir: string;
const procs: ReturnType<typeof Bun.spawn>[] = [];

/** Runs a copy of dist/bin/<name> from `dir`/bin with `dir` as its working folder and a bare environment. */
function start(name: string, env: Record<string, string>) {
  const proc = Bun.spawn([join(dir, "bin", name)], {
    cwd: dir,
    env: { PATH: "/usr/bin:/bin", LOG_LEVEL: "warn", REDIS_URL: redis.url, ...env },
    stdout: "ignore",
    stderr: "inherit",
  });
  procs.push(proc);
  return proc;
}

describe("the compiled binaries", () => {
  beforeAll(async () => {
    const build = Bun.spawnSync(["bash", join(ROOT, "scripts", "build.sh")], { stdout: "pipe", stderr: "pipe" });
    if (build.exitCode !== 0) throw new Error(`scripts/build.sh failed:\n${build.stdout}${build.stderr}`);
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), "tap-binaries-"));
    mkdirSync(join(dir, "bin"));
    for (const name of ["api", "ws", "price"]) copyFileSync(join(ROOT, "dist", "bin", name), join(dir, "bin", name));
    Bun.spawnSync(["chmod", "0755", ...["api", "ws", "price"].map((name) => join(dir, "bin", name))]);
  }, 120_000);

  afterAll(async () => {
    for (const proc of procs) proc.kill("SIGKILL");
    await Promise.all(procs.map((proc) => proc.exited));
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("have no node_modules anywhere above them", () => {
    for (let folder = dir; folder !== dirname(folder); folder = dirname(folder)) {
      expect(existsSync(join(folder, "node_modules"))).toBe(false);
    }
  });

  test("api and ws answer /healthz, price publishes ticks, and each stops cleanly on SIGTERM", async () => {
    const [apiPort, wsPort] = [await freePort(), await freePort()];
    const api = start("api", { PORT: String(apiPort), DB_PATH: join(dir, "data", "bets.db"), SESSION_SECRET: TEST_SESSION_SECRET });
    const ws = start("ws", { PORT: String(wsPort) });
    const listener = new Redis(redis.url);
    try {
      let ticks = 0;
      await listener.subscribe(Channels.priceTicks);
      listener.on("message", () => void (ticks += 1));
      const price = start("price", { PRICE_INTERVAL_MS: "50" });

      await waitForHttp(`http://127.0.0.1:${apiPort}/healthz`);
      await waitForHttp(`http://127.0.0.1:${wsPort}/healthz`);
      await waitFor("ticks from the price binary", () => ticks >= 2);
      // The api judges ticks from a subscriber of its own, which may hear its first a moment after ours:
      // ready once it has ("no price yet" until then), and says why when it never is.
      let lastAnswer = "";
      await waitFor(
        "the api ready",
        async () => {
          const ready = await fetch(`http://127.0.0.1:${apiPort}/readyz`);
          lastAnswer = `${ready.status} ${await ready.text()}`;
          return ready.status === 200;
        },
        10_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; last /readyz: ${lastAnswer}`);
      });

      for (const proc of [api, ws, price]) proc.kill("SIGTERM");
      expect(await Promise.all([api.exited, ws.exited, price.exited])).toEqual([0, 0, 0]);
    } finally {
      listener.disconnect();
    }
  });

  // The PostgreSQL store, its migrations and postgres.js as the binary embeds them (every other PostgreSQL test runs the sources).
  test.skipIf(Boolean(pgMissing) && !process.env.CI)("the api binary on PostgreSQL places bets, each with its one stake, and stops cleanly", async () => {
    const database = await createTempDatabase("tap_binaries");
    const check = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      const apiPort = await freePort();
      const base = `http://127.0.0.1:${apiPort}`;
      const api = start("api", { PORT: String(apiPort), DATABASE_URL: database.url, SESSION_SECRET: TEST_SESSION_SECRET });
      const price = start("price", { PRICE_INTERVAL_MS: "50" });
      await waitFor("the api ready on PostgreSQL", async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200, 20_000);
      const session = await newSession(base);
      const placed: string[] = [];
      for (let attempt = 0; placed.length < 3 && attempt < 20; attempt++) {
        const cell = openCell(await getGrid(base, session.token));
        const response = await postBet(base, session.token, { cell: cellOf(cell), amount: 1 });
        const body = (await response.json()) as { bet_id?: string; error?: { code: string } };
        // The price moved on between the grid and the bet and the cell is no longer offered: another cell; anything else fails.
        if (response.status === 409 && (body.error?.code === "not_offered" || body.error?.code === "cell_locked")) continue;
        expect({ status: response.status, body }).toMatchObject({ status: 202 });
        placed.push(body.bet_id!);
      }
      expect(placed).toHaveLength(3);
      const rows = await check<{ id: string; stakes: number }[]>`
        SELECT b.id, count(l.id)::int AS stakes FROM bets b LEFT JOIN ledger l ON l.bet_id = b.id AND l.kind = 'stake' GROUP BY b.id ORDER BY b.id`;
      expect([...rows]).toEqual(placed.toSorted().map((id) => ({ id, stakes: 1 })));
      for (const proc of [api, price]) proc.kill("SIGTERM");
      expect(await Promise.all([api.exited, price.exited])).toEqual([0, 0]);
    } finally {
      await check.end({ timeout: 1 });
      await database.drop();
    }
  });

  test("each binary's GET /metrics serves its figures and the default metrics kept, with no error on stderr", async () => {
    const [apiPort, wsPort, pricePort] = [await freePort(), await freePort(), await freePort()];
    const errors: string[] = [];
    const startLogged = (name: string, env: Record<string, string>) => {
      const proc = Bun.spawn([join(dir, "bin", name)], {
        cwd: dir,
        env: { PATH: "/usr/bin:/bin", LOG_LEVEL: "warn", REDIS_URL: redis.url, ...env },
        stdout: "ignore",
        stderr: "pipe",
      });
      procs.push(proc);
      void new Response(proc.stderr).text().then((text) => text.trim() && errors.push(`${name}: ${text.trim()}`));
      return proc;
    };
    const api = startLogged("api", { PORT: String(apiPort), DB_PATH: join(dir, "data", "metrics.db"), SESSION_SECRET: TEST_SESSION_SECRET });
    const ws = startLogged("ws", { PORT: String(wsPort) });
    const price = startLogged("price", { PORT: String(pricePort), PRICE_INTERVAL_MS: "50" });
    const scrapes = { api: `http://127.0.0.1:${apiPort}/metrics`, ws: `http://127.0.0.1:${wsPort}/metrics`, price: `http://127.0.0.1:${pricePort}/metrics` };
    for (const url of Object.values(scrapes)) await waitForHttp(url);
    // A second scrape a moment later: the event-loop figures are set from the first.
    await Bun.sleep(200);
    for (const [service, url] of Object.entries(scrapes)) {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      const text = await response.text();
      const samples = parseMetrics(text);
      for (const name of DEFAULT_METRICS) {
        const values = samples.filter((sample) => sample.name === name);
        expect({ service, name, count: values.length }).toEqual({ service, name, count: 1 });
        expect({ service, name, labels: values[0]!.labels }).toEqual({ service, name, labels: { service } });
      }
      for (const name of ["process_cpu_seconds_total", "process_start_time_seconds", "process_resident_memory_bytes", "process_open_fds", "process_max_fds", "nodejs_heap_size_used_bytes"]) {
        expect({ service, name, positive: (sampleValue(text, name) ?? 0) > 0 }).toEqual({ service, name, positive: true });
      }
      expect(text).toContain(`tap_redis_reconnects_total{role=`);
    }
    await waitFor("ticks counted by the price binary", async () => ((sampleValue(await (await fetch(scrapes.price)).text(), "tap_price_ticks_published_total") ?? 0) > 0));
    for (const proc of [api, ws, price]) proc.kill("SIGTERM");
    expect(await Promise.all([api.exited, ws.exited, price.exited])).toEqual([0, 0, 0]);
    // LOG_LEVEL=warn: only the expected start-up warnings (no signing key) may reach stderr, never an error.
    expect(errors.join("\n")).not.toMatch(/"level":"(error|fatal)"|TypeError|ReferenceError|is not a function|not implemented/);
  });
});
