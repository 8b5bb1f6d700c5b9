import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { freePort } from "./support/ports.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningApi, spawnService, startApi, waitForHttp } from "./support/service.ts";
import { startTickPump } from "./support/tick-pump.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const TEST_SECRET = "test-secret-0123456789abcdef-0123456789";

let redis: TestRedis;
let api: RunningApi;
let base: string;
let dir: string;
let dbPath: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), "tap-api-"));
  dbPath = join(dir, "bets.db");
  api = await startApi({
    REDIS_URL: redis.url,
    DB_PATH: dbPath,
    ENABLE_TEST_ROUTES: "1",
    CORS_ORIGINS: "http://localhost,http://example.test",
    SESSION_SECRET: TEST_SECRET,
  });
  base = api.base;
});

afterAll(async () => {
  await api?.stop("SIGKILL");
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function postJson(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

async function expectError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toContain("application/json");
  const body = (await response.json()) as { error: { code: string; message: string; details: unknown[]; request_id: string } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
  expect(Array.isArray(body.error.details)).toBe(true);
  expect(body.error.request_id).toBe(response.headers.get("x-request-id")!);
  return body.error;
}

describe("health", () => {
  test("healthz answers ok at /healthz and /api/healthz", async () => {
    for (const path of ["/healthz", "/api/healthz"]) {
      const response = await fetch(base + path);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: "ok", component: "api" });
    }
  });

  test("readyz proves a SQLite and a Redis round trip, and is not ready without a price", async () => {
    for (const path of ["/readyz", "/api/readyz"]) {
      const response = await fetch(base + path);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { status: string; checks: Record<string, { ok: boolean; error?: string; age_ms?: number | null }> };
      expect(body.status).toBe("unavailable");
      expect(body.checks.sqlite?.ok).toBe(true);
      expect(body.checks.redis?.ok).toBe(true);
      expect(body.checks.price).toEqual({ ok: false, age_ms: null, error: "no price yet" });
    }
    const db = new Database(dbPath, { readonly: true });
    expect(db.query("SELECT count(*) AS n FROM health_probe").get()).toEqual({ n: 1 });
    db.close();
  });
});

describe("GET /api/price", () => {
  test("is 503 in the error contract before any price exists, logged as one warn line without a stack", async () => {
    const response = await fetch(`${base}/api/price`);
    const id = response.headers.get("x-request-id");
    await expectError(response, 503, "unavailable");
    const line = await api.waitForLog("the 503's warn line", (l) => l.request_id === id && l.msg !== "request");
    expect(line).toMatchObject({ level: "warn", code: "unavailable", status: 503, msg: "no price yet" });
    expect(JSON.stringify(line)).not.toContain("stack");
    await api.waitForLog("the request line", (l) => l.request_id === id && l.msg === "request");
    expect(api.logs().filter((l) => l.request_id === id).map((l) => l.level)).toEqual(["warn", "info"]);
  });

  test("returns the latest price stored in Redis", async () => {
    const client = new Redis(redis.url);
    await client.set("price:btc:usd", JSON.stringify({ symbol: "BTC-USD", price: 42123.45, ts: 1_700_000_000_000 }));
    const response = await fetch(`${base}/api/price`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ symbol: "BTC-USD", price: 42123.45, ts: 1_700_000_000_000 });
    client.disconnect();
  });

  test("says where the latest price came from (source, venue count), without its number or signature", async () => {
    const client = new Redis(redis.url);
    const stored = { symbol: "BTC-USD", price: 42123.5, ts: 1_700_000_001_000, seq: 7, source: "venues", venues: 3, dispersion_bps: 1.2 };
    await client.set("price:btc:usd", JSON.stringify(stored));
    const response = await fetch(`${base}/api/price`);
    expect(await response.json()).toEqual({ symbol: "BTC-USD", price: 42123.5, ts: 1_700_000_001_000, source: "venues", venues: 3 });
    client.disconnect();
  });
});

describe("request bodies", () => {
  test("malformed JSON is 400 bad_json, on a route that reads no body too", async () => {
    const { token } = (await (await fetch(`${base}/api/session`, { method: "POST" })).json()) as { token: string };
    for (const body of ["{not json", "{", " "]) {
      await expectError(await postJson("/api/session", body), 400, "bad_json");
      await expectError(await postJson("/api/bets", body, { authorization: `Bearer ${token}` }), 400, "bad_json");
    }
  });

  test("an empty JSON body is no body: a new session, but 400 where a body is needed", async () => {
    // One empty chunk: sent chunked, with no Content-Length (a stream with none is sent as length 0).
    const emptyStream = () =>
      new ReadableStream({
        start(controller) {
          controller.enqueue(new Uint8Array(0));
          controller.close();
        },
      });
    for (const body of ["", emptyStream()]) {
      const response = await fetch(`${base}/api/session`, { method: "POST", headers: { "content-type": "application/json" }, body });
      expect(response.status).toBe(201);
      const { token } = (await response.json()) as { token: string };
      expect(token).toContain(".");
      const bet = await fetch(`${base}/api/bets`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: typeof body === "string" ? body : emptyStream(),
      });
      await expectError(bet, 400, "validation_failed");
    }
  });

  test("a body that is not JSON is 415", async () => {
    await expectError(await postJson("/api/session", "{}", { "content-type": "text/plain" }), 415, "unsupported_media_type");
    const noType = await fetch(`${base}/api/session`, { method: "POST", body: new Uint8Array([1, 2]) });
    await expectError(noType, 415, "unsupported_media_type");
  });

  test("a body over 16 KiB is 413, declared or chunked", async () => {
    await expectError(await postJson("/api/session", JSON.stringify({ pad: "x".repeat(17 * 1024) })), 413, "payload_too_large");
    const chunked = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1024)));
        controller.close();
      },
    });
    const response = await fetch(`${base}/api/session`, { method: "POST", headers: { "content-type": "application/json" }, body: chunked });
    await expectError(response, 413, "payload_too_large");
  });
});

describe("the error contract", () => {
  test("an unknown route is 404", async () => {
    await expectError(await fetch(`${base}/api/nope`), 404, "not_found");
  });

  test("a wrong method on a known route is 405 with Allow", async () => {
    const response = await fetch(`${base}/api/session`, { method: "DELETE" });
    expect(response.headers.get("allow")).toBe("POST");
    await expectError(response, 405, "method_not_allowed");
    const put = await fetch(`${base}/healthz`, { method: "PUT" });
    expect(put.headers.get("allow")).toBe("GET, HEAD");
    await expectError(put, 405, "method_not_allowed");
  });

  test("a handler that throws answers 500 internal without a stack, and the API keeps serving", async () => {
    const response = await fetch(`${base}/api/_test/panic`);
    const error = await expectError(response, 500, "internal");
    expect(JSON.stringify(error)).not.toContain("deliberate");
    expect(JSON.stringify(error)).not.toContain(".ts");
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await api.waitForLog("the stack in the log", (line) => line.msg === "unhandled error" && JSON.stringify(line).includes("deliberate"));
  });
});

describe("request ids and logging", () => {
  test("a sane X-Request-ID is echoed and used in the log line", async () => {
    const response = await fetch(`${base}/healthz`, { headers: { "x-request-id": "trace-abc.123" } });
    expect(response.headers.get("x-request-id")).toBe("trace-abc.123");
    const line = await api.waitForLog("request line", (l) => l.request_id === "trace-abc.123" && l.msg === "request");
    expect(line).toMatchObject({ component: "api", method: "GET", path: "/healthz", status: 200, level: "info" });
    expect(typeof line.duration_ms).toBe("number");
  });

  test("an unsafe X-Request-ID is replaced by a generated one", async () => {
    const response = await fetch(`${base}/healthz`, { headers: { "x-request-id": "bad id with spaces\t" } });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const long = await fetch(`${base}/healthz`, { headers: { "x-request-id": "a".repeat(500) } });
    expect(long.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("error answers are logged with their real status", async () => {
    const response = await postJson("/api/session", "{}", { "content-type": "text/plain" });
    const id = response.headers.get("x-request-id");
    await api.waitForLog("415 line", (l) => l.request_id === id && l.status === 415);
  });
});

describe("CORS", () => {
  test("allows the configured origins and no others", async () => {
    const allowed = await fetch(`${base}/api/healthz`, { headers: { origin: "http://example.test" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://example.test");
    const other = await fetch(`${base}/api/healthz`, { headers: { origin: "http://evil.test" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(`${base}/api/session`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://localhost");
  });
});

describe("readiness with a price, and when Redis is down", () => {
  test("readyz is ready with fresh ticks, 503 once they are older than STALE_MS", async () => {
    await using pump = await startTickPump(redis.url, 42_000, 100);
    await waitFor("ready with a price", async () => (await fetch(`${base}/readyz`)).status === 200);
    const body = (await (await fetch(`${base}/readyz`)).json()) as { checks: { price: { ok: boolean; age_ms: number } } };
    expect(body.checks.price.ok).toBe(true);
    expect(body.checks.price.age_ms).toBeLessThanOrEqual(5000);
    await pump.stop();
    // STALE_MS is 5 s by default here: the price ages past it, and readiness goes with it.
    await waitFor("not ready with a stale price", async () => (await fetch(`${base}/readyz`)).status === 503, 10_000, 250);
    const stale = (await (await fetch(`${base}/readyz`)).json()) as { checks: { price: { ok: boolean; error: string } } };
    expect(stale.checks.price.error).toMatch(/^the last tick is \d+ ms old \(over 5000 ms\)$/);
  }, 20_000);

  test("readyz is 503 naming Redis while it is down, and ready again after", async () => {
    await using pump = await startTickPump(redis.url, 42_000, 100);
    await waitFor("ready with a price", async () => (await fetch(`${base}/readyz`)).status === 200);
    await redis.restart(0).catch(() => {});
    // Stop Redis entirely for the check: restart() with a long pause in the background.
    const downFor = redis.restart(2500);
    const down = await waitFor("readyz to go unready with Redis down", async () => {
      const answer = await fetch(`${base}/readyz`);
      return answer.status === 503 ? answer : undefined;
    });
    const body = (await down.json()) as { status: string; checks: { sqlite: { ok: boolean }; redis: { ok: boolean; error?: string } } };
    expect(body.status).toBe("unavailable");
    expect(body.checks.sqlite.ok).toBe(true);
    expect(body.checks.redis.ok).toBe(false);
    await downFor;
    await waitFor("ready again", async () => (await fetch(`${base}/readyz`)).status === 200);
  });
});

describe("lifecycle", () => {
  test("SIGTERM lets an in-flight request finish, then exits 0", async () => {
    const port = await freePort();
    const own = spawnService("api", {
      PORT: String(port),
      REDIS_URL: redis.url,
      DB_PATH: join(dir, "drain.db"),
      ENABLE_TEST_ROUTES: "1",
      SESSION_SECRET: TEST_SECRET,
    });
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    const slow = fetch(`http://127.0.0.1:${port}/api/_test/slow`);
    await own.waitForLog("slow request started", (line) => line.msg === "slow request started");
    own.proc.kill("SIGTERM");
    const response = await slow;
    expect(response.status).toBe(200);
    expect(await own.stop()).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  test("a bad setting stops the API at once with exit 78 naming the variable", async () => {
    for (const [name, value] of [
      ["PORT", "eighty"],
      ["LOG_LEVEL", "loud"],
      ["REDIS_ADDR", "nohost"],
      ["CORS_ORIGINS", "*"],
      ["HOUSE_EDGE", "0.9"],
      // Above 1 − HOUSE_EDGE (the default 0.05): no cell could be offered.
      ["MIN_RTP", "0.96"],
      ["STARTING_BALANCE", "10.001"],
    ] as const) {
      const bad = spawnService("api", { SESSION_SECRET: TEST_SECRET, [name]: value, DB_PATH: join(dir, "bad.db") });
      expect(await bad.proc.exited).toBe(78);
      await waitFor("fatal line", () => bad.lines.some((l) => l.includes(name) && l.includes(value)));
    }
  });

  test("the session secret is required, long enough, and private when read from a file", async () => {
    const env = { DB_PATH: join(dir, "bad.db") };
    const missing = spawnService("api", { ...env, SESSION_SECRET: "" });
    expect(await missing.proc.exited).toBe(78);
    await waitFor("names SESSION_SECRET", () => missing.lines.some((l) => l.includes("SESSION_SECRET") && l.includes("required")));

    const short = spawnService("api", { ...env, SESSION_SECRET: "too-short" });
    expect(await short.proc.exited).toBe(78);
    await waitFor("too short", () => short.lines.some((l) => l.includes("SESSION_SECRET") && l.includes("32 bytes") && !l.includes("too-short")));

    const file = join(dir, "secret");
    await Bun.write(file, `${TEST_SECRET}\n`);
    chmodSync(file, 0o644);
    const open = spawnService("api", { ...env, SESSION_SECRET_FILE: file });
    expect(await open.proc.exited).toBe(78);
    await waitFor("names the mode", () => open.lines.some((l) => l.includes("SESSION_SECRET_FILE") && l.includes("0600")));

    chmodSync(file, 0o600);
    const port = await freePort();
    const good = spawnService("api", { ...env, SESSION_SECRET_FILE: file, PORT: String(port), REDIS_URL: redis.url });
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    expect(await good.stop()).toBe(0);
  });
});
