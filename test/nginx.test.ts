/**
 * The production nginx site (nginx/tap-trading.conf, rendered for free ports)
 * in front of the compiled binaries, a private redis-server and a temp web root.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { MAX_BODY_BYTES } from "../api/http/json-body.ts";
import { Channels } from "../common/channels.ts";
import { nginxUnavailable, startNginx, type TestNginx } from "./support/nginx.ts";
import { freePort } from "./support/ports.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningService, type ServiceName, spawnService, waitForHttp } from "./support/service.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const ROOT = join(import.meta.dir, "..");
const missing = nginxUnavailable();
// CI installs nginx (scripts/setup.sh): there a missing nginx is a failure, not a skip.
if (missing && !process.env.CI) console.warn(`test/nginx.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

let redis: TestRedis;
let nginx: TestNginx;
/** The services' own ports, which nginx fronts (and Prometheus scrapes). */
let direct: { api: string; ws: string };
let dir: string;
const services: RunningService[] = [];

/** Builds the binaries (or keeps dist/bin when newer than the sources) and returns their folder. */
function compiledBinaries(): string {
  const build = Bun.spawnSync(["bash", join(ROOT, "scripts", "build.sh")], { stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`scripts/build.sh failed:\n${build.stdout}${build.stderr}`);
  return join(ROOT, "dist", "bin");
}

function spawnBinary(name: ServiceName, env: Record<string, string>, binDir: string): RunningService {
  const previous = process.env.SERVICE_BIN_DIR;
  process.env.SERVICE_BIN_DIR = binDir;
  try {
    const service = spawnService(name, env);
    services.push(service);
    return service;
  } finally {
    if (previous === undefined) delete process.env.SERVICE_BIN_DIR;
    else process.env.SERVICE_BIN_DIR = previous;
  }
}

/** A websocket through nginx that keeps every message it receives. */
async function openSocket(url: string) {
  const socket = new WebSocket(url);
  const messages: Record<string, unknown>[] = [];
  socket.addEventListener("message", (event) => messages.push(JSON.parse(String(event.data)) as Record<string, unknown>));
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error(`websocket to ${url} failed`)), { once: true });
  });
  return { socket, messages };
}

/** A GET sent by hand, its path exactly as given (fetch would resolve `..` and `%2e%2e` first): the status and body. */
async function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  let answer = "";
  const done = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname,
    port: Number(port),
    socket: {
      data: (_socket, chunk) => void (answer += chunk.toString()),
      close: () => done.resolve(),
      error: (_socket, error) => done.reject(error),
    },
  });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
  await done.promise;
  const [head = "", body = ""] = answer.split("\r\n\r\n", 2);
  return { status: Number(head.split(" ")[1]), body };
}

/** A websocket upgrade sent by hand: nginx's whole answer when it refuses one (status line, headers, body). */
async function refusedUpgrade(url: string): Promise<{ status: number; requestId: string | undefined; body: string }> {
  const { hostname, port } = new URL(url);
  let answer = "";
  const done = Promise.withResolvers<void>();
  const socket = await Bun.connect({
    hostname,
    port: Number(port),
    socket: {
      data: (_socket, chunk) => void (answer += chunk.toString()),
      close: () => done.resolve(),
      error: (_socket, error) => done.reject(error),
    },
  });
  socket.write(
    `GET /ws HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Request-ID: one-too-many\r\n\r\n",
  );
  // A refusal ends with its JSON body; an accepted upgrade would never close.
  await Promise.race([done.promise, waitFor("a whole refusal", () => answer.trimEnd().endsWith("}}"))]);
  socket.end();
  const [head = "", body = ""] = answer.split("\r\n\r\n");
  return { status: Number(head.split(" ")[1]), requestId: /^x-request-id: (.*)$/im.exec(head)?.[1], body };
}

describe.skipIf(!run)("nginx in front of the compiled services", () => {
  beforeAll(async () => {
    if (missing) throw new Error(`CI must have nginx: ${missing}`);
    const binDir = compiledBinaries();
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), "tap-nginx-test-"));
    const web = join(dir, "web");
    Bun.spawnSync(["mkdir", "-p", web]);
    writeFileSync(join(web, "index.html"), `<!doctype html><title>tap-trading test page</title><p>${"placeholder ".repeat(60)}</p>\n`);
    writeFileSync(join(web, "app.css"), `body { margin: 0; }\n${".cell { color: #333; }\n".repeat(40)}`);

    const [apiPort, wsPort] = [await freePort(), await freePort()];
    direct = { api: `http://127.0.0.1:${apiPort}`, ws: `http://127.0.0.1:${wsPort}` };
    const common = { REDIS_URL: redis.url, LOG_LEVEL: "info" };
    const api = spawnBinary("api", { ...common, PORT: String(apiPort), DB_PATH: join(dir, "bets.db") }, binDir);
    spawnBinary("ws", { ...common, PORT: String(wsPort) }, binDir);
    spawnBinary("price", { ...common, PRICE_INTERVAL_MS: "100" }, binDir);
    await waitForHttp(`http://127.0.0.1:${apiPort}/healthz`);
    await waitForHttp(`http://127.0.0.1:${wsPort}/healthz`);
    nginx = await startNginx({ apiPort, wsPort, webRoot: web });
    expect(api.proc.exitCode).toBeNull();
  }, 120_000);

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all(services.map((service) => service.stop("SIGKILL")));
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("/api/healthz answers 200 through nginx, path unchanged", async () => {
    const response = await fetch(`${nginx.url}/api/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok", component: "api" });
  });

  test("/api/readyz proves SQLite, Redis and a fresh price through nginx", async () => {
    // Ready needs the price service's first ticks too, which may still be on their way.
    const response = await waitFor("ready through nginx", async () => {
      const answer = await fetch(`${nginx.url}/api/readyz`);
      // A refusal is thrown so that a timeout names what was still not ready.
      if (answer.status !== 200) throw new Error(`${answer.status} ${await answer.text()}`);
      return answer;
    });
    const body = (await response.json()) as { checks: { sqlite: { ok: boolean }; redis: { ok: boolean }; price: { ok: boolean } } };
    expect(body.checks.sqlite.ok).toBe(true);
    expect(body.checks.redis.ok).toBe(true);
    expect(body.checks.price.ok).toBe(true);
  });

  test("a caller's request id reaches the API; nginx makes one up otherwise", async () => {
    const given = await fetch(`${nginx.url}/api/healthz`, { headers: { "x-request-id": "nginx-test-42" } });
    // Once: the API's echo and nginx's header are one value, not two.
    expect(given.headers.get("x-request-id")).toBe("nginx-test-42");
    await given.body?.cancel();

    const made = await fetch(`${nginx.url}/api/healthz`, { headers: { "x-request-id": "bad id with spaces" } });
    const id = made.headers.get("x-request-id");
    await made.body?.cancel();
    expect(id).toMatch(/^[0-9a-f]{32}$/); // nginx's $request_id, not the caller's
    const line = await waitFor("the request in nginx's access log", () => nginx.accessLog().find((record) => record.request_id === id));
    expect(line).toMatchObject({ component: "nginx", method: "GET", uri: "/api/healthz", status: 200 });
  });

  test("/ws without an upgrade: ws's 426 through nginx, its request id once", async () => {
    const plain = await fetch(`${nginx.url}/ws`, { headers: { "x-request-id": "nginx-ws-7" } });
    expect(plain.status).toBe(426);
    expect(plain.headers.get("upgrade")).toBe("websocket");
    expect(plain.headers.get("x-request-id")).toBe("nginx-ws-7");
    expect((await plain.json()) as unknown).toMatchObject({ error: { code: "upgrade_required", request_id: "nginx-ws-7" } });
  });

  test("a body over the API's limit gets 413 from nginx, in the API's error contract", async () => {
    const post = (bytes: number) =>
      fetch(`${nginx.url}/api/bets`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-request-id": `size-${bytes}` },
        body: JSON.stringify({ pad: "x".repeat(bytes - 10) }),
      });
    const tooLarge = await post(MAX_BODY_BYTES + 1);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get("content-type")).toBe("application/json");
    expect(tooLarge.headers.get("x-request-id")).toBe(`size-${MAX_BODY_BYTES + 1}`);
    expect(await tooLarge.json()).toEqual({
      error: {
        code: "payload_too_large",
        message: `request body is larger than ${MAX_BODY_BYTES} bytes`,
        details: [],
        request_id: `size-${MAX_BODY_BYTES + 1}`,
      },
    });
    // Exactly the limit passes nginx and reaches the API (which asks for a session, not a smaller body).
    const atLimit = await post(MAX_BODY_BYTES);
    expect(atLimit.status).toBe(401);
    expect(((await atLimit.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
  });

  test("a websocket opens through nginx at /ws and receives the price service's ticks", async () => {
    const { socket, messages } = await openSocket(`${nginx.url.replace("http", "ws")}/ws`);
    try {
      const ticks = await waitFor("two price ticks through nginx", () => {
        const prices = messages.filter((message) => message.type === "price");
        return prices.length >= 2 ? prices : undefined;
      });
      expect(ticks[0]).toMatchObject({ type: "price", symbol: "BTC-USD" });
    } finally {
      socket.close();
    }
  });

  test("one address holds at most 100 websockets; the next upgrade gets 429 in the error contract", async () => {
    const url = `${nginx.url.replace("http", "ws")}/ws`;
    const held = await Promise.all(Array.from({ length: 100 }, () => openSocket(url)));
    try {
      const refused = await refusedUpgrade(nginx.url);
      expect(refused.status).toBe(429);
      expect(refused.requestId).toBe("one-too-many");
      expect(JSON.parse(refused.body)).toEqual({
        error: { code: "rate_limited", message: "too many websockets from this address", details: [], request_id: "one-too-many" },
      });
      // A place freed is a place taken.
      held.pop()!.socket.close();
      const again = await waitFor("a websocket once one closed", () => openSocket(url).catch(() => undefined), 5000, 50);
      held.push(again);
    } finally {
      // Seen closed, and a place free again, before the next test opens a websocket of its own.
      await Promise.all(held.map(({ socket }) => new Promise((closed) => (socket.addEventListener("close", closed), socket.close()))));
      const probe = await waitFor("nginx to let the websockets go", () => openSocket(url).catch(() => undefined), 5000, 50);
      probe.socket.close();
    }
  });

  test("a tick published on Redis reaches the websocket through nginx", async () => {
    const { socket, messages } = await openSocket(`${nginx.url.replace("http", "ws")}/ws`);
    const publisher = new Redis(redis.url, { lazyConnect: true });
    try {
      await publisher.connect();
      const tick = { symbol: "BTC-USD", price: 12_345.67, ts: Date.now() };
      // Publish until seen: the first may go out before ws has subscribed this client.
      const seen = await waitFor(
        "the published tick on the websocket",
        async () => {
          await publisher.publish(Channels.priceTicks, JSON.stringify(tick));
          return messages.find((message) => message.type === "price" && message.price === tick.price);
        },
        10_000,
        100,
      );
      expect(seen).toEqual({ type: "price", symbol: "BTC-USD", price: tick.price, ts: tick.ts });
    } finally {
      socket.close();
      publisher.disconnect();
    }
  });

  test("/metrics is not served through nginx, under any spelling of the path; the services' own ports serve it", async () => {
    // The control: the API and ws do serve metrics on their own ports (Prometheus scrapes those).
    for (const base of [direct.api, direct.ws]) {
      const own = await rawGet(base, "/metrics");
      expect(own.status).toBe(200);
      expect(own.body).toContain("# TYPE process_resident_memory_bytes gauge");
    }
    const paths = ["/metrics", "/api/metrics", "/api/metrics/", "/api/../metrics", "/api/%2e%2e/metrics", "/api/%2E%2E/metrics", "/api//metrics", "//metrics", "/ws/metrics", "/ws/../metrics", "/api/healthz/../../metrics"];
    for (const path of paths) {
      const { status, body } = await rawGet(nginx.url, path);
      expect({ path, answered: status >= 200 && status < 300, metrics: /# TYPE |process_|tap_[a-z_]+\{/.test(body) }).toEqual({ path, answered: false, metrics: false });
    }
  });

  test("the static page loads with security headers, gzip for its files", async () => {
    const page = await fetch(`${nginx.url}/`, { headers: { "accept-encoding": "gzip" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toStartWith("text/html");
    expect(page.headers.get("content-encoding")).toBe("gzip");
    expect(await page.text()).toContain("tap-trading test page");
    expect({
      "x-content-type-options": page.headers.get("x-content-type-options"),
      "x-frame-options": page.headers.get("x-frame-options"),
      "referrer-policy": page.headers.get("referrer-policy"),
      "permissions-policy": page.headers.get("permissions-policy"),
      "cross-origin-opener-policy": page.headers.get("cross-origin-opener-policy"),
      "content-security-policy": page.headers.get("content-security-policy"),
    }).toEqual({
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "strict-origin-when-cross-origin",
      "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
      "cross-origin-opener-policy": "same-origin",
      "content-security-policy":
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    });
    expect(page.headers.get("server")).toBe("nginx"); // server_tokens off: no version

    const css = await fetch(`${nginx.url}/app.css`, { headers: { "accept-encoding": "gzip" } });
    expect(css.status).toBe(200);
    expect(css.headers.get("content-encoding")).toBe("gzip");
    await css.body?.cancel();

    const absent = await fetch(`${nginx.url}/no-such-file.js`);
    expect(absent.status).toBe(404);
    await absent.body?.cancel();
  });

  test("the API down answers 503 in the error contract, not nginx's HTML", async () => {
    const api = services.find((service) => service.name === "api")!;
    await api.stop("SIGKILL");
    const response = await fetch(`${nginx.url}/api/healthz`, { headers: { "x-request-id": "while-down" } });
    expect(response.status).toBe(503);
    expect(response.headers.get("x-request-id")).toBe("while-down");
    expect(await response.json()).toMatchObject({ error: { code: "unavailable", request_id: "while-down" } });
  });
});
