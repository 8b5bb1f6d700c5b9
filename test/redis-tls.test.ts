/**
 * Redis elsewhere, over TLS: price, api and ws reach a password-protected redis-server that only speaks TLS
 * (`rediss://`), trusting its self-signed certificate through NODE_EXTRA_CA_CERTS as an operator would a private CA.
 * Ticks flow through it to a bet and to a websocket; without the certificate trusted, nothing connects.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { authed, cellOf, getGrid, newSession, openCell, postBet } from "./support/api-client.ts";
import { freePort } from "./support/ports.ts";
import { type RunningService, spawnService, waitForHttp } from "./support/service.ts";
import { waitFor } from "./support/wait.ts";

setDefaultTimeout(30_000);

const PASSWORD = "tls-test-password-0123";
let dir: string;
let redis: Subprocess;
let redisPort: number;
let cert: string;
const services: RunningService[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tap-redis-tls-"));
  cert = join(dir, "cert.pem");
  const made = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], { stderr: "pipe" });
  if (made.exitCode !== 0) throw new Error(`openssl could not make a certificate (apt-get install -y openssl): ${made.stderr.toString()}`);
  redisPort = await freePort();
  redis = Bun.spawn(
    ["redis-server", "--port", "0", "--tls-port", String(redisPort), "--tls-cert-file", cert, "--tls-key-file", join(dir, "key.pem"), "--tls-auth-clients", "no", "--requirepass", PASSWORD, "--save", "", "--appendonly", "no"],
    { cwd: dir, stdout: "ignore", stderr: "ignore" },
  );
  await waitFor("redis-server listening with TLS", async () => {
    try {
      await Bun.connect({ hostname: "127.0.0.1", port: redisPort, socket: { data() {}, open(socket) { socket.end(); } } });
      return true;
    } catch {
      return undefined;
    }
  });
});

afterAll(async () => {
  for (const service of services) await service.stop("SIGKILL");
  redis?.kill();
  await redis?.exited;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const url = `rediss://:${PASSWORD}@127.0.0.1:`;

describe("Redis over TLS (rediss://) with a password", () => {
  test("price, api and ws work through it: the API is ready on its ticks, takes a bet, and ws pushes the ticks", async () => {
    const env = { REDIS_URL: `${url}${redisPort}`, NODE_EXTRA_CA_CERTS: cert };
    const [apiPort, wsPort] = [await freePort(), await freePort()];
    services.push(spawnService("price", { ...env, PRICE_SOURCE: "mock", PRICE_INTERVAL_MS: "200" }));
    const api = spawnService("api", { ...env, PORT: String(apiPort), DB_PATH: join(dir, "bets.db") });
    const ws = spawnService("ws", { ...env, PORT: String(wsPort) });
    services.push(api, ws);
    const base = `http://127.0.0.1:${apiPort}`;
    // Ready means a fresh tick reached the API: price → TLS Redis → api.
    await waitForHttp(`${base}/readyz`, 20_000);
    await waitForHttp(`http://127.0.0.1:${wsPort}/healthz`);
    const session = await newSession(base);
    const placed = await postBet(base, session.token, { amount: 1, cell: cellOf(openCell(await getGrid(base))) });
    expect(placed.status).toBe(202);
    expect((await fetch(`${base}/api/me`, { headers: authed(session.token) })).status).toBe(200);

    const socket = new WebSocket(`ws://127.0.0.1:${wsPort}/ws`);
    const tick = await new Promise<{ type: string; price?: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no tick over the websocket")), 10_000);
      socket.onopen = () => socket.send(JSON.stringify({ type: "subscribe", channel: "prices" }));
      socket.onmessage = (event) => {
        const message = JSON.parse(String(event.data)) as { type: string; price?: number };
        if (message.type === "price") {
          clearTimeout(timer);
          resolve(message);
        }
      };
    });
    socket.close();
    expect(tick.price).toBeGreaterThan(0);
  });

  test("without the certificate trusted the API does not connect: TLS is verified, never skipped", async () => {
    const apiPort = await freePort();
    const api = spawnService("api", { REDIS_URL: `${url}${redisPort}`, PORT: String(apiPort), DB_PATH: join(dir, "untrusted.db") });
    services.push(api);
    await waitFor("a word about the certificate", () => api.logs().some((line) => /certificate/i.test(JSON.stringify(line))) || undefined, 15_000);
    const ready = await fetch(`http://127.0.0.1:${apiPort}/readyz`).then(
      (response) => response.status,
      () => 0,
    );
    expect(ready).not.toBe(200);
  });
});
