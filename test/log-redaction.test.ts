/**
 * No credential is ever written to a log: api, ws and price run as processes at
 * LOG_LEVEL=debug with a REDIS_URL that carries a password (Redis's production
 * ACL), SESSION_SECRET and PRICE_SIGNING_KEY set; they serve a player, lose Redis
 * and reconnect, and stop; a ws with a wrong password logs its refusals. Every
 * line they wrote (stdout and stderr) is then searched for the secrets.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectClient } from "../ws/_test-client.ts";
import { cellOf, getGrid, newSession, openCell, postBet } from "./support/api-client.ts";
import { freePort } from "./support/ports.ts";
import { startRedis, type TestRedisWithAcl } from "./support/redis-server.ts";
import { type RunningApi, type RunningService, spawnService, startApi, waitForHttp } from "./support/service.ts";

// Three services and a Redis restart they must come back from.
setDefaultTimeout(30_000);

const randomSecret = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
const SESSION_SECRET = randomSecret();
const PRICE_SIGNING_KEY = randomSecret();

let redis: TestRedisWithAcl;
let dir: string;
let api: RunningApi | undefined;
let ws: RunningService | undefined;
let price: RunningService | undefined;
let refused: RunningService | undefined;
let wsUrl: string;

beforeAll(async () => {
  redis = await startRedis({ acl: true });
  dir = mkdtempSync(join(tmpdir(), "tap-redaction-"));
  const secrets = { SESSION_SECRET, PRICE_SIGNING_KEY, LOG_LEVEL: "debug" };
  price = spawnService("price", { REDIS_URL: redis.users.price.url, PRICE_SIGNING_KEY, LOG_LEVEL: "debug", PRICE_INTERVAL_MS: "100" });
  const wsPort = await freePort();
  ws = spawnService("ws", { REDIS_URL: redis.users.ws.url, PORT: String(wsPort), ...secrets });
  wsUrl = `ws://127.0.0.1:${wsPort}/ws`;
  await waitForHttp(`http://127.0.0.1:${wsPort}/healthz`);
  api = await startApi({ REDIS_URL: redis.users.api.url, DB_PATH: join(dir, "bets.db"), ...secrets }, { grid: true });
});

afterAll(async () => {
  for (const service of [api, ws, price, refused]) await service?.stop("SIGKILL");
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("at debug, through a player's bet, a Redis restart, a refused password and a stop, no log line holds a password or a secret", async () => {
  // A player: session, websocket auth, a bet and its event.
  {
    await using client = await connectClient(wsUrl);
    const session = await newSession(api!.base);
    client.ws.send(JSON.stringify({ type: "auth", token: session.token }));
    await client.next("authed", (m) => m.type === "authed");
    const response = await postBet(api!.base, session.token, { amount: 1, cell: cellOf(openCell(await getGrid(api!.base))) });
    expect(response.status).toBe(202);
    const { bet_id } = (await response.json()) as { bet_id: string };
    await client.next("the bet event", (m) => m.type === "bet" && m.bet_id === bet_id);
  }

  // Redis goes away and comes back: every connection logs its errors and its reconnection.
  await redis.restart(300);
  for (const service of [api!, ws!, price!]) await service.waitForLog("redis reconnected", (line) => line.msg === "redis reconnected", 20_000);

  // A ws whose REDIS_URL holds a wrong password: Redis refuses it, and it says so.
  const wrongPassword = randomSecret();
  refused = spawnService("ws", { REDIS_URL: redis.users.ws.url.replace(redis.users.ws.password, wrongPassword), PORT: String(await freePort()), SESSION_SECRET, PRICE_SIGNING_KEY, LOG_LEVEL: "debug" });
  const refusal = await refused.waitForLog("a refused connection", (line) => line.msg === "redis error");
  expect(String(refusal.err)).toMatch(/WRONGPASS/);

  for (const service of [api!, ws!, price!, refused]) await service.stop("SIGTERM");

  const everything = [api!, ws!, price!, refused].flatMap((service) => service.lines.map((line) => `${service.name}: ${line}`));
  const secrets = { SESSION_SECRET, PRICE_SIGNING_KEY, wrongPassword, ...Object.fromEntries(Object.entries(redis.users).map(([name, user]) => [`${name}'s Redis password`, user.password])) };
  for (const [name, secret] of Object.entries(secrets)) {
    expect({ name, lines: everything.filter((line) => line.includes(secret)) }).toEqual({ name, lines: [] });
  }
  // The search had something to search: debug lines (the api writes none of its own), and the Redis URL, redacted.
  for (const service of [ws!, price!]) expect(service.logs().some((line) => line.level === "debug")).toBe(true);
  const redacted = `redis://***@127.0.0.1:${redis.port}`;
  for (const service of [api!, ws!, price!]) expect({ service: service.name, redacted: service.lines.some((line) => line.includes(redacted)) }).toEqual({ service: service.name, redacted: true });
});
