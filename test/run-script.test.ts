// `make run` end to end: scripts/run.ts as a real process, with the real
// services, its own redis-server, nginx in front serving the built page, free
// ports, stopped as a person would.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLines } from "../scripts/run/child.ts";
import { freePort } from "./support/ports.ts";
import { startCoinbaseDouble } from "./support/venues/coinbase.ts";
import { startKrakenDouble } from "./support/venues/kraken.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const ROOT = join(import.meta.dir, "..");
const TIMEOUT_MS = 60_000;

interface RunScript {
  proc: ReturnType<typeof Bun.spawn>;
  lines: string[];
  apiPort: number;
  wsPort: number;
  /** nginx's: the page, /api/ and /ws. */
  httpPort: number;
  /** price's /healthz. */
  pricePort: number;
  /** The pids the supervisor logged: api, ws, price, nginx and redis. */
  pids(): Record<string, number>;
  waitForLine(what: string, match: RegExp, timeoutMs?: number): Promise<string>;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Whether `pid` runs; with `group`, also whether anything in its process group does (nginx's workers). */
function isAlive(pid: number, group = false): boolean {
  for (const target of group ? [pid, -pid] : [pid]) {
    try {
      process.kill(target, 0);
      return true;
    } catch {}
  }
  return false;
}

async function startRunScript(env: Record<string, string> = {}): Promise<RunScript> {
  const apiPort = Number(env.API_PORT ?? (await freePort()));
  const wsPort = await freePort();
  const httpPort = Number(env.HTTP_PORT ?? (await freePort()));
  const pricePort = await freePort();
  const runDir = mkdtempSync(join(tmpdir(), "tap-run-"));
  const proc = Bun.spawn([process.execPath, "scripts/run.ts"], {
    cwd: ROOT,
    // No REDIS_URL: the script must start a Redis of its own, never use the one on 6379.
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/root",
      NO_COLOR: "1",
      API_PORT: String(apiPort),
      WS_PORT: String(wsPort),
      HTTP_PORT: String(httpPort),
      REDIS_PORT: String(await freePort()),
      RUN_DIR: runDir,
      LOG_LEVEL: "info",
      PRICE_PORT: String(pricePort),
      PRICE_INTERVAL_MS: "100",
      // Simulated prices at once unless a test says otherwise: the exchanges' wait is tested on its own.
      PRICE_SOURCE: "mock",
      ...env,
    },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  void readLines(proc.stdout as ReadableStream<Uint8Array>, (line) => lines.push(line));
  void readLines(proc.stderr as ReadableStream<Uint8Array>, (line) => lines.push(line));
  const pids = () => {
    const found: Record<string, number> = {};
    for (const line of lines) {
      const started = /run\s+INFO\s+started (\w+) pid=(\d+)/.exec(line);
      if (started?.[1] && started[2]) found[started[1]] = Number(started[2]);
      const redis = /local redis-server ready .*pid=(\d+)/.exec(line);
      if (redis?.[1]) found.redis = Number(redis[1]);
    }
    return found;
  };
  cleanups.push(() => {
    // Each child leads its own process group: SIGKILL to the group takes nginx's workers too.
    for (const pid of Object.values(pids())) if (isAlive(pid, true)) process.kill(-pid, "SIGKILL");
    proc.kill("SIGKILL");
    rmSync(runDir, { recursive: true, force: true });
  });
  return {
    proc,
    lines,
    apiPort,
    wsPort,
    httpPort,
    pricePort,
    pids,
    waitForLine: (what, match, timeoutMs = 30_000) => waitFor(what, () => lines.find((line) => match.test(line)), timeoutMs, 50),
  };
}

async function status(url: string): Promise<number | string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.status;
  } catch (error) {
    return (error as Error).name;
  }
}

async function fetchJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2000) });
  const text = await response.text();
  return { status: response.status, body: text.startsWith("{") ? JSON.parse(text) : text };
}

async function exitCode(proc: ReturnType<typeof Bun.spawn>, timeoutMs = 25_000): Promise<number | string> {
  return await Promise.race([proc.exited, Bun.sleep(timeoutMs).then(() => `still running after ${timeoutMs} ms`)]);
}

describe("scripts/run.ts (make run)", () => {
  test(
    "starts redis, api, ws, price and nginx serving the built page; a guest can play through nginx; SIGINT stops them all with exit 0",
    async () => {
      const run = await startRunScript();
      await run.waitForLine("the banner", /tap-trading is running/);
      const site = `http://127.0.0.1:${run.httpPort}`;
      expect(run.lines).toContainEqual(expect.stringMatching(new RegExp(`open\\s+http://localhost:${run.httpPort}/$`)));
      expect(run.lines).toContainEqual(expect.stringContaining(`ws://localhost:${run.httpPort}/ws`));
      expect(run.lines.join("\n")).not.toContain("not yet");
      // PRICE_SOURCE=mock asked for: no wait for the exchanges, and the banner says the prices are simulated.
      expect(run.lines).toContainEqual(expect.stringMatching(/prices\s+simulated \(PRICE_SOURCE=mock\)/));
      expect(run.lines.join("\n")).not.toContain("waiting up to 10 s");

      // The page, built by web/build.ts and served by nginx.
      const page = await fetch(`${site}/`, { signal: AbortSignal.timeout(2000) });
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toContain("text/html");
      expect(await page.text()).toMatch(/<!doctype html>/i);

      // The API through nginx, and directly.
      expect(await status(`${site}/api/healthz`)).toBe(200);
      expect(await status(`http://127.0.0.1:${run.apiPort}/healthz`)).toBe(200);
      expect(await status(`http://127.0.0.1:${run.wsPort}/healthz`)).toBe(200);
      // Ready means the api reached the script's own Redis and its SQLite file.
      expect(await status(`${site}/api/readyz`)).toBe(200);

      // A guest session, and the grid once price ticks flow through that Redis to the api.
      const session = await fetchJson(`${site}/api/session`, { method: "POST" });
      expect(session.status).toBe(201);
      expect(session.body).toMatchObject({ token: expect.any(String), user_id: expect.any(String) });
      await waitFor("a price from /api/price", async () => (await status(`${site}/api/price`)) === 200, 15_000);
      await waitFor("a grid from /api/grid", async () => (await status(`${site}/api/grid`)) === 200, 15_000);
      const grid = await fetchJson(`${site}/api/grid`);
      expect(grid.body).toMatchObject({ cells: expect.any(Array) });

      const pids = run.pids();
      expect(Object.keys(pids).sort()).toEqual(["api", "nginx", "price", "redis", "ws"]);
      for (const pid of Object.values(pids)) expect(isAlive(pid)).toBe(true);
      // Pretty-printed service lines, not raw JSON.
      expect(run.lines).toContainEqual(expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} api\s+INFO\s+api listening port=/));

      run.proc.kill("SIGINT");
      expect(await exitCode(run.proc)).toBe(0);
      for (const [name, pid] of Object.entries(pids)) expect({ name, alive: isAlive(pid, true) }).toEqual({ name, alive: false });
      expect(await status(`${site}/`)).not.toBe(200);
      expect(await status(`http://127.0.0.1:${run.apiPort}/healthz`)).not.toBe(200);
      expect(await status(`http://127.0.0.1:${run.wsPort}/healthz`)).not.toBe(200);
      expect(run.lines).toContainEqual(expect.stringMatching(/run\s+INFO\s+nginx stopped/));
      expect(run.lines).toContainEqual(expect.stringMatching(/run\s+INFO\s+all stopped/));
    },
    TIMEOUT_MS,
  );

  test(
    "by default prices come from the exchanges; when none answers within 10 s, price alone restarts simulated and the banner says so loudly",
    async () => {
      const closed = await Promise.all(["COINBASE", "KRAKEN", "BITSTAMP", "BITFINEX"].map(async (name) => [`PRICE_VENUE_URL_${name}`, `ws://127.0.0.1:${await freePort()}`]));
      const run = await startRunScript({ PRICE_SOURCE: "", ...Object.fromEntries(closed) });
      await run.waitForLine("the banner", /tap-trading is running/, 40_000);
      const text = run.lines.join("\n");
      expect(text).toContain("price feed starting source=venues");
      expect(text).toContain("PRICES ARE SIMULATED: no exchange answered within 10 s (no internet?)");
      expect(run.lines).toContainEqual(expect.stringMatching(/prices\s+simulated \(fell back to PRICE_SOURCE=mock\)/));
      // Only price was restarted, ten seconds after it started, and the others kept running.
      const started = run.lines.filter((line) => /run\s+INFO\s+started /.test(line));
      expect(started.map((line) => /started (\w+)/.exec(line)?.[1])).toEqual(["api", "ws", "price", "nginx", "price"]);
      const at = (line: string | undefined) => {
        const [h, m, sec] = (line ?? "").slice(0, 12).split(":").map(Number);
        return ((h ?? 0) * 3600 + (m ?? 0) * 60 + (sec ?? 0)) * 1000;
      };
      const waited = at(run.lines.find((line) => line.includes("no exchange answered within 10 s (no internet?): restarting price"))) - at(started[2]);
      expect(waited).toBeGreaterThanOrEqual(9_900);
      expect(waited).toBeLessThan(12_000);
      expect(text).toContain("price stopped to be replaced code=0");
      expect(text).not.toContain("exited unexpectedly");

      // Simulated ticks flow to the api and the page is served.
      const health = await fetchJson(`http://127.0.0.1:${run.pricePort}/healthz`);
      expect(health.body).toMatchObject({ status: "ok", source: "mock" });
      const site = `http://127.0.0.1:${run.httpPort}`;
      expect(await status(`${site}/`)).toBe(200);
      await waitFor("a price from /api/price", async () => (await status(`${site}/api/price`)) === 200, 10_000);

      const pids = run.pids();
      const firstPrice = Number(/pid=(\d+)/.exec(started[2] ?? "")?.[1]);
      expect(isAlive(firstPrice)).toBe(false);
      run.proc.kill("SIGINT");
      expect(await exitCode(run.proc)).toBe(0);
      for (const [name, pid] of Object.entries(pids)) expect({ name, alive: isAlive(pid, true) }).toEqual({ name, alive: false });
    },
    TIMEOUT_MS,
  );

  test(
    "with an exchange answering there is no fallback: the banner says live from N venues and the api prices from them",
    async () => {
      await using coinbase = await startCoinbaseDouble();
      await using kraken = await startKrakenDouble();
      const pump = setInterval(() => {
        coinbase.quote({ bid: 42_000, ask: 42_001, last: 42_000 });
        kraken.quote({ bid: 42_001, ask: 42_002, last: 42_001 });
      }, 100);
      cleanups.push(() => clearInterval(pump));
      const run = await startRunScript({
        PRICE_SOURCE: "",
        PRICE_VENUES: "coinbase,kraken",
        PRICE_VENUE_URL_COINBASE: coinbase.url,
        PRICE_VENUE_URL_KRAKEN: kraken.url,
      });
      const banner = await run.waitForLine("the banner's prices", /prices\s+live from/, 30_000);
      expect(banner).toMatch(/live from [12] venues? \((coinbase|kraken)[^;]*; 2 configured\)/);
      const text = run.lines.join("\n");
      expect(text).not.toContain("SIMULATED");
      expect(text).not.toContain("restarting price");
      expect(run.lines.filter((line) => /run\s+INFO\s+started price/.test(line))).toHaveLength(1);

      const site = `http://127.0.0.1:${run.httpPort}`;
      const price = await waitFor("a price from the venues", async () => {
        const answer = await fetchJson(`${site}/api/price`);
        return answer.status === 200 ? (answer.body as { price: number }) : undefined;
      }, 10_000);
      // The median of the two mids, 42,000.5 and 42,001.5.
      expect(price.price).toBe(42_001);
      run.proc.kill("SIGINT");
      expect(await exitCode(run.proc)).toBe(0);
    },
    TIMEOUT_MS,
  );

  test(
    "a service that dies takes the others down, and the script exits non-zero",
    async () => {
      const run = await startRunScript();
      await run.waitForLine("the banner", /tap-trading is running/);
      const pids = run.pids();
      process.kill(pids.price ?? 0, "SIGKILL");
      expect(await exitCode(run.proc)).toBe(1);
      expect(run.lines).toContainEqual(expect.stringMatching(/run\s+ERROR price exited unexpectedly signal=SIGKILL/));
      for (const [name, pid] of Object.entries(pids)) expect({ name, alive: isAlive(pid, true) }).toEqual({ name, alive: false });
    },
    TIMEOUT_MS,
  );

  test(
    "a port in use is refused with a clear message before anything starts",
    async () => {
      using taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("someone else") });
      const run = await startRunScript({ API_PORT: String(taken.port) });
      expect(await exitCode(run.proc)).toBe(1);
      expect(run.lines.join("\n")).toContain(`port ${taken.port} is already in use`);
      expect(run.pids()).toEqual({});
    },
    TIMEOUT_MS,
  );

  test(
    "a taken HTTP_PORT is refused before anything starts",
    async () => {
      using taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("someone else") });
      const run = await startRunScript({ HTTP_PORT: String(taken.port) });
      expect(await exitCode(run.proc)).toBe(1);
      expect(run.lines.join("\n")).toContain(`port ${taken.port} is already in use, so nginx cannot listen on it`);
      expect(run.pids()).toEqual({});
    },
    TIMEOUT_MS,
  );

  test(
    "a bad setting stops it with exit 78, naming the variable",
    async () => {
      const run = await startRunScript({ WS_PORT: "eighty" });
      expect(await exitCode(run.proc)).toBe(78);
      expect(run.lines.join("\n")).toContain("WS_PORT");
    },
    TIMEOUT_MS,
  );
});
