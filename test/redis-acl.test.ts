/**
 * The production Redis ACL (deploy/redis/users.acl, rendered by
 * deploy/redis/render-acl.sh as deploy/install.sh does) on a real
 * redis-server: each service's user can do its job and gets NOPERM for
 * anything else, a client that does not authenticate gets nothing, and the
 * three services, run as processes with their own credentials, work end to
 * end while forged ticks, grids and bet events are refused and reach no player.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { Channels, Keys } from "../common/channels.ts";
import type { BetAccepted } from "../common/contracts/bet.ts";
import { compactGrid } from "../common/grid-codec.ts";
import { connectClient, type TestClient } from "../ws/_test-client.ts";
import { cellOf, getGrid, newSession, openCell, postBet } from "./support/api-client.ts";
import { freePort } from "./support/ports.ts";
import { type AclUserName, startRedis, type TestRedisUser, type TestRedisWithAcl } from "./support/redis-server.ts";
import { type RunningApi, type RunningService, spawnService, startApi, waitForHttp } from "./support/service.ts";
import { waitFor } from "./support/wait.ts";

// Three services as processes, each waiting for the others' messages.
setDefaultTimeout(30_000);

let redis: TestRedisWithAcl;
const opened: Redis[] = [];

beforeAll(async () => {
  redis = await startRedis({ acl: true });
});

afterAll(async () => {
  for (const connection of opened) connection.disconnect();
  await redis?.stop();
});

/** A connection as `user` (or with no credentials), connected and past ioredis's ready check; no retries. */
async function connectAs(user: TestRedisUser | undefined, name = "test"): Promise<Redis> {
  const connection = new Redis(user?.url ?? redis.url, {
    lazyConnect: true,
    connectionName: `tap-trading:${name}`,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  connection.on("error", () => {});
  opened.push(connection);
  await connection.connect();
  return connection;
}

/** The error Redis answered `command` with, or "OK" when it was carried out. */
async function outcome(connection: Redis, command: string, ...args: (string | number)[]): Promise<string> {
  try {
    await connection.call(command, ...args);
    return "OK";
  } catch (error) {
    return (error as Error).message.split(" ")[0]!;
  }
}

const tick = (price: number, ts = Date.now()) => JSON.stringify({ symbol: "BTC-USD", price, ts });

/** What no service user may do, whoever it is. */
const NOBODY: [string, ...(string | number)[]][] = [
  ["FLUSHALL"],
  ["FLUSHDB"],
  ["CONFIG", "GET", "maxmemory"],
  ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
  ["KEYS", "*"],
  ["SCAN", 0],
  ["ACL", "LIST"],
  ["ACL", "SETUSER", "intruder", "on", ">x", "+@all"],
  ["ACL", "WHOAMI"],
  ["CLIENT", "LIST"],
  ["CLIENT", "KILL", "ID", 1],
  ["EVAL", "return redis.call('PUBLISH', 'prices:btc:usd', '1')", 0],
  ["SELECT", 1],
  ["SAVE"],
  ["SCRIPT", "FLUSH"],
  ["FUNCTION", "LIST"],
  ["SET", "other:key", "x"],
  ["GET", "other:key"],
  ["DEL", Keys.latestPrice],
  ["PSUBSCRIBE", "*"],
  ["PUBLISH", "other:channel", "x"],
];

/** Each user's refusals besides NOBODY's: the other services' channels and keys. */
const REFUSED: Record<Exclude<AclUserName, "admin">, [string, ...(string | number)[]][]> = {
  price: [
    ["PUBLISH", Channels.betEvents, "[]"],
    ["PUBLISH", Channels.grid, "{}"],
    ["SUBSCRIBE", Channels.betEvents],
    ["SET", "readyz:x", "x"],
    ["EXPIRE", Keys.latestPrice, 1],
  ],
  api: [
    ["PUBLISH", Channels.priceTicks, tick(1)],
    ["PUBLISH", Channels.priceTicks, "42105"],
    ["SET", Keys.latestPrice, tick(1)],
    ["ZADD", Keys.priceHistory, Date.now(), tick(1)],
    ["ZREMRANGEBYSCORE", Keys.priceHistory, "-inf", "+inf"],
    ["DEL", Keys.priceHistory],
    ["SUBSCRIBE", Channels.betEvents],
    ["SUBSCRIBE", Channels.grid],
    ["MULTI"],
  ],
  ws: [
    ["PUBLISH", Channels.priceTicks, tick(1)],
    ["PUBLISH", Channels.grid, "{}"],
    ["PUBLISH", Channels.betEvents, "[]"],
    ["SET", Keys.latestPrice, tick(1)],
    ["ZADD", Keys.priceHistory, Date.now(), tick(1)],
    ["SET", "readyz:x", "x"],
    ["DEL", "readyz:x"],
  ],
};

describe("the ACL of deploy/redis/users.acl on redis-server", () => {
  test("a client that does not authenticate gets NOAUTH; the default user, a wrong password and another user's password get WRONGPASS", async () => {
    const anonymous = new Redis(redis.url, { lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    anonymous.on("error", () => {});
    opened.push(anonymous);
    await anonymous.connect();
    const commands: [string, ...string[]][] = [["PING"], ["GET", Keys.latestPrice], ["PUBLISH", Channels.priceTicks, tick(1)], ["SUBSCRIBE", Channels.betEvents]];
    for (const command of commands) {
      expect({ command, answer: await outcome(anonymous, ...command) }).toEqual({ command, answer: "NOAUTH" });
    }
    expect(await outcome(anonymous, "AUTH", "anything")).toBe("WRONGPASS");
    expect(await outcome(anonymous, "AUTH", "default", "")).toBe("WRONGPASS");
    expect(await outcome(anonymous, "AUTH", redis.users.api.username, "wrong")).toBe("WRONGPASS");
    expect(await outcome(anonymous, "AUTH", redis.users.api.username, redis.users.price.password)).toBe("WRONGPASS");
    expect(await outcome(anonymous, "PING")).toBe("NOAUTH");
    // ioredis with no credentials never gets past its ready check.
    const errors: string[] = [];
    const refused = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    refused.on("error", (error: Error) => errors.push(error.message));
    opened.push(refused);
    await expect(refused.connect()).rejects.toThrow();
    expect(refused.status).not.toBe("ready");
    expect(errors.join("\n")).toContain("NOAUTH");
  });

  test("every service user gets through ioredis's connection (AUTH, CLIENT SETNAME, INFO) and may PING", async () => {
    for (const name of ["api", "ws", "price"] as const) {
      const connection = await connectAs(redis.users[name], `acl-${name}`);
      expect(connection.status).toBe("ready");
      expect(await connection.ping()).toBe("PONG");
      expect(await connection.info("server")).toContain("redis_version:");
      expect(await connection.client("SETNAME", `tap-trading:acl-${name}-renamed`)).toBe("OK");
    }
    const admin = await connectAs(redis.users.admin);
    const names = String(await admin.client("LIST"));
    for (const name of ["api", "ws", "price"]) expect(names).toContain(`name=tap-trading:acl-${name}-renamed `);
  });

  test("price: writes each tick in one MULTI/EXEC (latest, history, publish) and reads the newest back; nothing else", async () => {
    const price = await connectAs(redis.users.price);
    const ts = Date.now();
    const json = tick(42_000.5, ts);
    const results = await price
      .multi()
      .set(Keys.latestPrice, json, "EX", 3600)
      .zadd(Keys.priceHistory, ts, json)
      .zremrangebyscore(Keys.priceHistory, "-inf", `(${ts - 3_600_000}`)
      .publish(Channels.priceTicks, json)
      .exec();
    expect(results?.map(([error]) => error)).toEqual([null, null, null, null]);
    expect(await price.get(Keys.latestPrice)).toBe(json);
    expect(await price.zrange(Keys.priceHistory, -1, -1)).toEqual([json]);
    expect(await price.zrange(Keys.priceHistory, 0, 0, "REV")).toEqual([json]);
    expect(await price.zrangebyscore(Keys.priceHistory, ts, ts)).toEqual([json]);
    for (const command of [...NOBODY, ...REFUSED.price]) expect({ command, answer: await outcome(price, ...command) }).toEqual({ command, answer: "NOPERM" });
  });

  test("api: publishes grids and bet events, subscribes to ticks, reads prices, probes readyz:*; cannot publish or write a price", async () => {
    const price = await connectAs(redis.users.price);
    const api = await connectAs(redis.users.api);
    const subscriber = await connectAs(redis.users.api, "api-subscriber");
    const heard: string[] = [];
    subscriber.on("message", (_channel: string, message: string) => heard.push(message));
    await subscriber.subscribe(Channels.priceTicks);
    const json = tick(42_001);
    await price.publish(Channels.priceTicks, json);
    await waitFor("the api's subscriber hears the price user's tick", () => heard.includes(json));
    await subscriber.unsubscribe(Channels.priceTicks);

    expect(await api.publish(Channels.grid, '{"cells":[]}')).toBeNumber();
    expect(await api.publish(Channels.betEvents, "[]")).toBeNumber();
    expect(await api.get(Keys.latestPrice)).not.toBeNull();
    expect(await api.zrangebyscore(Keys.priceHistory, 0, "+inf", "LIMIT", 0, 10)).not.toEqual([]);
    expect(await api.zrange(Keys.priceHistory, -1, -1)).not.toEqual([]);
    // GET /api/prices reads the newest ticks of a window first (common/prices/tick-store.ts).
    expect(await api.zrange(Keys.priceHistory, "+inf", 0, "BYSCORE", "REV", "LIMIT", 0, 2, "WITHSCORES")).not.toEqual([]);
    // The readiness probe (api/health/service.ts).
    expect(await api.set("readyz:probe", "token", "PX", 10_000)).toBe("OK");
    expect(await api.get("readyz:probe")).toBe("token");
    expect(await api.del("readyz:probe")).toBe(1);

    for (const command of [...NOBODY, ...REFUSED.api]) expect({ command, answer: await outcome(api, ...command) }).toEqual({ command, answer: "NOPERM" });
    expect(heard).toEqual([json]);
  });

  test("ws: subscribes to ticks, the grid and bet events and reads prices; publishes and writes nothing", async () => {
    const [price, api, ws, subscriber] = await Promise.all([
      connectAs(redis.users.price),
      connectAs(redis.users.api),
      connectAs(redis.users.ws),
      connectAs(redis.users.ws, "ws-subscriber"),
    ]);
    const heard: [string, string][] = [];
    subscriber.on("message", (channel: string, message: string) => heard.push([channel, message]));
    await subscriber.subscribe(Channels.priceTicks, Channels.grid, Channels.betEvents);
    const json = tick(42_002);
    await price.publish(Channels.priceTicks, json);
    await api.publish(Channels.grid, '{"cells":[]}');
    await api.publish(Channels.betEvents, "[]");
    await waitFor("the ws subscriber hears all three channels", () => heard.length === 3);
    expect(heard).toEqual([
      [Channels.priceTicks, json],
      [Channels.grid, '{"cells":[]}'],
      [Channels.betEvents, "[]"],
    ]);
    expect(await ws.get(Keys.latestPrice)).not.toBeNull();
    expect(await ws.zrangebyscore(Keys.priceHistory, 0, "+inf", "LIMIT", 0, 10)).not.toEqual([]);
    expect(await ws.zrange(Keys.priceHistory, -1, -1)).not.toEqual([]);
    for (const command of [...NOBODY, ...REFUSED.ws]) expect({ command, answer: await outcome(ws, ...command) }).toEqual({ command, answer: "NOPERM" });
  });

  test("a MULTI that smuggles a forbidden command is refused as a whole", async () => {
    const api = await connectAs(redis.users.api, "api-multi");
    await expect(api.multi().publish(Channels.grid, "{}").set(Keys.latestPrice, tick(1)).exec()).rejects.toThrow(/NOPERM|EXECABORT/);
    const price = await connectAs(redis.users.price, "price-multi");
    await expect(price.multi().set(Keys.latestPrice, tick(1)).publish(Channels.betEvents, "[]").exec()).rejects.toThrow(/EXECABORT/);
    expect(await price.get(Keys.latestPrice)).not.toBe(tick(1));
  });
});

describe("deploy/redis/render-acl.sh", () => {
  const render = (dir: string) => Bun.spawnSync(["bash", join(import.meta.dir, "..", "deploy", "redis", "render-acl.sh"), dir], { stdout: "pipe", stderr: "pipe" });

  test("puts each password's SHA-256 in the file, never the password, and keeps no comment", async () => {
    const acl = await Bun.file(redis.aclFile).text();
    for (const user of Object.values(redis.users)) {
      expect(acl).not.toContain(user.password);
      expect(acl).toContain(`user ${user.username} reset on #${new Bun.CryptoHasher("sha256").update(user.password).digest("hex")} `);
    }
    expect(acl.split("\n").filter((line) => line && !line.startsWith("user "))).toEqual([]);
  });

  test("refuses a missing or empty password file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tap-acl-render-"));
    try {
      for (const name of ["admin", "api", "ws"]) await Bun.write(join(dir, `redis-${name}.password`), `pw-${name}\n`);
      const missing = render(dir);
      expect({ code: missing.exitCode, stderr: missing.stderr.toString() }).toMatchObject({ code: 1, stderr: expect.stringContaining("redis-price.password is missing") });
      await Bun.write(join(dir, "redis-price.password"), "\n");
      const empty = render(dir);
      expect({ code: empty.exitCode, stderr: empty.stderr.toString() }).toMatchObject({ code: 1, stderr: expect.stringContaining("redis-price.password is empty") });
      await Bun.write(join(dir, "redis-price.password"), "  pw-price  ");
      expect(render(dir).stdout.toString()).toContain(`#${new Bun.CryptoHasher("sha256").update("pw-price").digest("hex")} `);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the services as processes, each with its own Redis user", () => {
  let dir: string;
  let price: RunningService;
  let ws: RunningService;
  let api: RunningApi;
  let wsUrl: string;
  // A Redis of their own: the tests above left ticks in the history that the services would continue from.
  let redis: TestRedisWithAcl;

  // No PRICE_SIGNING_KEY: what keeps the forgeries below out is the ACL alone, not the ticks' signatures.
  beforeAll(async () => {
    redis = await startRedis({ acl: true });
    dir = mkdtempSync(join(tmpdir(), "tap-acl-"));
    price = spawnService("price", { ...redis.users.price.env, PRICE_INTERVAL_MS: "100" });
    const wsPort = await freePort();
    ws = spawnService("ws", { ...redis.users.ws.env, PORT: String(wsPort) });
    wsUrl = `ws://127.0.0.1:${wsPort}/ws`;
    await waitForHttp(`http://127.0.0.1:${wsPort}/healthz`);
    api = await startApi({ ...redis.users.api.env, DB_PATH: join(dir, "bets.db") }, { grid: true });
  });

  afterAll(async () => {
    for (const service of [api, ws, price]) await service?.stop("SIGKILL");
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("ticks reach a websocket client, the api serves a priced grid and is ready, a bet comes back as the player's bet event", async () => {
    await using client = await connectClient(wsUrl);
    const first = await client.next("a tick", (m) => m.type === "price");
    await client.next("a later tick", (m) => m.type === "price" && (m.ts as number) > (first.ts as number));

    const grid = await getGrid(api.base);
    expect(grid.cells.length).toBeGreaterThan(0);
    // Its probe SETs, GETs and DELs a readyz:* key as the api's user.
    await waitFor("readyz 200 (SQLite and Redis round trips)", async () => (await fetch(`${api.base}/readyz`)).status === 200);

    const session = await newSession(api.base);
    client.ws.send(JSON.stringify({ type: "auth", token: session.token }));
    await client.next("authed", (m) => m.type === "authed");
    client.ws.send(JSON.stringify({ type: "subscribe", channel: "grid" }));
    await client.next("a grid", (m) => m.type === "grid");

    const response = await postBet(api.base, session.token, { amount: 1, cell: cellOf(openCell(await getGrid(api.base))) });
    const placed = (await response.json()) as BetAccepted;
    expect({ status: response.status, placed }).toMatchObject({ status: 202 });
    expect(await client.next("the bet event", (m) => m.type === "bet" && m.bet_id === placed.bet_id)).toMatchObject({ status: "accepted" });

    await forgeriesReachNobody(client, session.user_id, placed.bet_id);
  });

  /** Each service's user tries what another service does; Redis refuses, and the client hears none of it. */
  async function forgeriesReachNobody(client: TestClient, playerId: string, betId: string) {
    const [asWs, asPrice, asApi] = await Promise.all([connectAs(redis.users.ws, "forger-ws"), connectAs(redis.users.price, "forger-price"), connectAs(redis.users.api, "forger-api")]);
    const wonEvent = JSON.stringify([{ player_id: playerId, event: { type: "bet", bet_id: betId, status: "won", payout: 1_000_000, balance: 1_000_000 } }]);
    // A grid the bridge would relay (compact, as the API publishes it): only Redis's ACL keeps it out.
    const at = Date.now();
    const forgedGrid = JSON.stringify({
      ...compactGrid({
        ts: at, price: 1.5, price_ts: at, sigma: 0.0004, quote_id: "forged", expires_at: at + 1000, column_ms: 5000, band: 1, lock_ms: 2000, house_edge: 0.05, min_rtp: 0.9,
        cells: [{ t_start: at + 5000, t_end: at + 10_000, price_low: 1, price_high: 2, multiplier: 1000, rtp: 1, offered: true, locked: false }],
      }),
      forged: true,
    });
    const forgeries: [Redis, string, string][] = [
      [asWs, Channels.betEvents, wonEvent],
      [asWs, Channels.priceTicks, tick(1)],
      [asWs, Channels.grid, forgedGrid],
      [asPrice, Channels.grid, forgedGrid],
      [asPrice, Channels.betEvents, wonEvent],
      [asApi, Channels.priceTicks, tick(1)],
      [asApi, Channels.priceTicks, "1"],
    ];
    const from = client.received.length;
    const answers = [];
    for (const [connection, channel, message] of forgeries) answers.push({ channel, answer: await outcome(connection, "PUBLISH", channel, message) });
    answers.push({ channel: Keys.latestPrice, answer: await outcome(asWs, "SET", Keys.latestPrice, tick(1)) });
    answers.push({ channel: Keys.latestPrice, answer: await outcome(asApi, "SET", Keys.latestPrice, tick(1)) });
    answers.push({ channel: Keys.priceHistory, answer: await outcome(asApi, "ZADD", Keys.priceHistory, Date.now(), tick(1)) });

    // Real traffic published after the attempts has reached the client: anything forged would have come before it.
    await waitFor("three ticks and a grid after the forgeries", () => {
      const after = client.json().slice(from);
      return after.filter((m) => m.type === "price").length >= 3 && after.some((m) => m.type === "grid");
    });
    const heard = client.json();
    const forgedHeard = [
      ...heard.filter((m) => m.type === "bet" && m.status !== "accepted"),
      ...heard.filter((m) => m.type === "price" && (m.price as number) < 1000),
      ...heard.filter((m) => m.type === "grid" && (m.grid as { forged?: boolean }).forged),
    ];
    expect({ answers, forgedHeard }).toEqual({ answers: answers.map(({ channel }) => ({ channel, answer: "NOPERM" })), forgedHeard: [] });
    const latest = (await (await fetch(`${api.base}/api/price`)).json()) as { price: number };
    expect(latest.price).toBeGreaterThan(1000);
  }

  test("no password reaches a log line", () => {
    for (const service of [price, ws, api]) {
      expect(service.lines.length).toBeGreaterThan(0);
      for (const user of Object.values(redis.users)) {
        expect({ service: service.name, leaks: service.lines.filter((line) => line.includes(user.password)) }).toEqual({ service: service.name, leaks: [] });
      }
    }
    // The redacted URL is logged instead.
    expect(api.logs().find((line) => line.msg === "api listening")).toMatchObject({ redis: `redis://***@127.0.0.1:${redis.port}` });
  });
});
