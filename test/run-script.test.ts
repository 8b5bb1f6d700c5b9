// `make run` end to end: scripts/run.ts as a real process, with the real
// services, its own redis-server and free ports, stopped as a person would.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLines } from "../scripts/run/child.ts";
import { freePort } from "./support/ports.ts";
import { waitFor } from "./support/wait.ts";

const ROOT = join(import.meta.dir, "..");
const TIMEOUT_MS = 60_000;

interface RunScript {
  proc: ReturnType<typeof Bun.spawn>;
  lines: string[];
  apiPort: number;
  wsPort: number;
  /** The pids the supervisor logged: api, ws, price and redis. */
  pids(): Record<string, number>;
  waitForLine(what: string, match: RegExp, timeoutMs?: number): Promise<string>;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function startRunScript(env: Record<string, string> = {}): Promise<RunScript> {
  const apiPort = Number(env.API_PORT ?? (await freePort()));
  const wsPort = await freePort();
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
      REDIS_PORT: String(await freePort()),
      RUN_DIR: runDir,
      LOG_LEVEL: "info",
      PRICE_INTERVAL_MS: "100",
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
    for (const pid of Object.values(pids())) if (isAlive(pid)) process.kill(pid, "SIGKILL");
    proc.kill("SIGKILL");
    rmSync(runDir, { recursive: true, force: true });
  });
  return {
    proc,
    lines,
    apiPort,
    wsPort,
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

async function exitCode(proc: ReturnType<typeof Bun.spawn>, timeoutMs = 25_000): Promise<number | string> {
  return await Promise.race([proc.exited, Bun.sleep(timeoutMs).then(() => `still running after ${timeoutMs} ms`)]);
}

describe("scripts/run.ts (make run)", () => {
  test(
    "starts redis, api, ws and price, answers health, and stops them all on SIGINT with exit 0",
    async () => {
      const run = await startRunScript();
      await run.waitForLine("the banner", /tap-trading is running/);
      expect(run.lines).toContainEqual(expect.stringContaining(`http://localhost:${run.apiPort}/api/price`));
      expect(run.lines).toContainEqual(expect.stringContaining(`ws://localhost:${run.wsPort}/ws`));

      expect(await status(`http://127.0.0.1:${run.apiPort}/healthz`)).toBe(200);
      expect(await status(`http://127.0.0.1:${run.wsPort}/healthz`)).toBe(200);
      // Ready means the api reached the script's own Redis and its SQLite file.
      expect(await status(`http://127.0.0.1:${run.apiPort}/readyz`)).toBe(200);
      // And price ticks flow through that Redis to the api.
      await waitFor("a price from /api/price", async () => (await status(`http://127.0.0.1:${run.apiPort}/api/price`)) === 200, 15_000);

      const pids = run.pids();
      expect(Object.keys(pids).sort()).toEqual(["api", "price", "redis", "ws"]);
      for (const pid of Object.values(pids)) expect(isAlive(pid)).toBe(true);
      // Pretty-printed service lines, not raw JSON.
      expect(run.lines).toContainEqual(expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} api\s+INFO\s+api listening port=/));

      run.proc.kill("SIGINT");
      expect(await exitCode(run.proc)).toBe(0);
      for (const [name, pid] of Object.entries(pids)) expect({ name, alive: isAlive(pid) }).toEqual({ name, alive: false });
      expect(await status(`http://127.0.0.1:${run.apiPort}/healthz`)).not.toBe(200);
      expect(await status(`http://127.0.0.1:${run.wsPort}/healthz`)).not.toBe(200);
      expect(run.lines).toContainEqual(expect.stringMatching(/run\s+INFO\s+all stopped/));
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
      for (const [name, pid] of Object.entries(pids)) expect({ name, alive: isAlive(pid) }).toEqual({ name, alive: false });
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
    "a bad setting stops it with exit 78, naming the variable",
    async () => {
      const run = await startRunScript({ WS_PORT: "eighty" });
      expect(await exitCode(run.proc)).toBe(78);
      expect(run.lines.join("\n")).toContain("WS_PORT");
    },
    TIMEOUT_MS,
  );
});
