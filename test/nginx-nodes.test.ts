/**
 * nginx in front of two api nodes and two ws nodes (issue 17, docs/nodes.md):
 * the production site rendered with two nodes in each upstream, a private
 * redis-server, one price process, two api processes (each with its own
 * SQLite file: the nodes do not share a store yet) and two ws processes, all
 * from source. Routing is proven from the outside: which SQLite file holds a
 * player and their bets, and which node nginx's access log names.
 */
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BetAccepted } from "../common/contracts/bet.ts";
import type { CompactGrid } from "../common/contracts/grid.ts";
import type { SessionCreated } from "../common/contracts/session.ts";
import { expandGrid } from "../common/grid-codec.ts";
import { authed, cellOf, getGrid, newSession, openCell, postBet } from "./support/api-client.ts";
import { nginxUnavailable, startNginx, type TestNginx } from "./support/nginx.ts";
import { freePort } from "./support/ports.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningApi, type RunningService, spawnService, startApi, waitForHttp } from "./support/service.ts";
import { waitFor } from "./support/wait.ts";

// Real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const missing = nginxUnavailable();
// CI installs nginx (scripts/setup.sh): there a missing nginx is a failure, not a skip.
if (missing && !process.env.CI) console.warn(`test/nginx-nodes.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

/** An api node: the process and its own SQLite file. */
type ApiNode = { api: RunningApi; dbPath: string; address: string };
/** A ws node: the process and its own port (its /metrics count its sockets). */
type WsNode = { ws: RunningService; port: number; address: string };

let redis: TestRedis;
let dir: string;
let price: RunningService | undefined;
let apiNodes: ApiNode[] = [];
let wsNodes: WsNode[] = [];
let nginx: TestNginx;

/** A player made through nginx in the first test, whose node is killed in the last. */
let player: SessionCreated;

beforeAll(async () => {
  if (!run) return;
  if (missing) throw new Error(`CI must have nginx: ${missing}`);
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), "tap-nginx-nodes-"));
  price = spawnService("price", { REDIS_URL: redis.url, PRICE_INTERVAL_MS: "100", LOG_LEVEL: "info" });
  // Every session through nginx comes from 127.0.0.1: the per-address limit would stop the test, not a player.
  const apiEnv = { REDIS_URL: redis.url, LOG_LEVEL: "info", SESSIONS_PER_IP_PER_MIN: "100000" };
  apiNodes = await Promise.all(
    ["a", "b"].map(async (name) => {
      const dbPath = join(dir, `api-${name}.db`);
      const api = await startApi({ ...apiEnv, DB_PATH: dbPath }, { grid: true });
      return { api, dbPath, address: `127.0.0.1:${api.port}` };
    }),
  );
  wsNodes = await Promise.all(
    [0, 1].map(async () => {
      const port = await freePort();
      const ws = spawnService("ws", { REDIS_URL: redis.url, PORT: String(port), LOG_LEVEL: "info" });
      await waitForHttp(`http://127.0.0.1:${port}/healthz`);
      return { ws, port, address: `127.0.0.1:${port}` };
    }),
  );
  nginx = await startNginx({ apiPorts: apiNodes.map(({ api }) => api.port), wsPorts: wsNodes.map(({ port }) => port) });
}, 120_000);

afterAll(async () => {
  await nginx?.stop();
  await Promise.all([...apiNodes.map(({ api }) => api.stop("SIGKILL")), ...wsNodes.map(({ ws }) => ws.stop("SIGKILL")), price?.stop("SIGKILL")]);
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs `query` on one node's SQLite file, opened read-only. */
function readDb<T>(dbPath: string, query: (db: Database) => T): T {
  const db = new Database(dbPath, { readonly: true });
  try {
    return query(db);
  } finally {
    db.close();
  }
}

/** The nodes whose SQLite file holds `playerId`. */
function nodesHolding(playerId: string): ApiNode[] {
  return apiNodes.filter((node) => readDb(node.dbPath, (db) => db.query("SELECT 1 FROM players WHERE id = ?").get(playerId)) !== null);
}

/** The idempotency keys of `playerId`'s bets in one node's file, sorted. */
function betKeys(node: ApiNode, playerId: string): string[] {
  const rows = readDb(node.dbPath, (db) => db.query("SELECT idempotency_key AS key FROM bets WHERE player_id = ? ORDER BY key").all(playerId)) as { key: string }[];
  return rows.map((row) => row.key);
}

/** nginx's access-log line of the request with this X-Request-Id (written once the request ends). */
function logged(front: TestNginx, requestId: string): Promise<Record<string, unknown>> {
  return waitFor(`request ${requestId} in nginx's access log`, () => front.accessLog().find((line) => line.request_id === requestId));
}

/** `GET path` through nginx as `token`'s player, with a request id to find it in the log. */
function get(path: string, token: string | undefined, requestId: string): Promise<Response> {
  return fetch(`${nginx.url}${path}`, { headers: { ...(token ? authed(token) : {}), "x-request-id": requestId } });
}

/**
 * A new player whose session was made on the node their token hashes to (about
 * one in two): with a SQLite file per node, the only players the api nodes can
 * serve through nginx.
 */
function knownPlayer(): Promise<SessionCreated> {
  return waitFor("a player whose token hashes to the node that made them", async () => {
    const made = await newSession(nginx.url);
    const me = await get("/api/me", made.token, `probe-${made.user_id}`);
    await me.body?.cancel();
    return me.status === 200 ? made : undefined;
  });
}

/** Open websockets on a ws node, by its own /metrics. */
async function openSockets(node: WsNode): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${node.port}/metrics`)).text();
  return Number(/^tap_ws_connections(?:\{[^}]*\})? (\d+)$/m.exec(text)?.[1]);
}

/** A websocket through nginx that keeps what it receives and whether it closed. */
type Client = { socket: WebSocket; messages: Record<string, unknown>[]; closed: boolean };

async function openClient(): Promise<Client> {
  const socket = new WebSocket(`${nginx.url.replace("http", "ws")}/ws`);
  const client: Client = { socket, messages: [], closed: false };
  socket.addEventListener("message", (event) => client.messages.push(JSON.parse(String(event.data)) as Record<string, unknown>));
  socket.addEventListener("close", () => (client.closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error("a websocket through nginx failed to open")), { once: true });
  });
  return client;
}

/** The first message of `type` (and more) a client has received, once it has. */
function received(client: Client, what: string, match: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return waitFor(`${what} on the websocket`, () => client.messages.find(match));
}

describe.skipIf(!run)("nginx in front of two api nodes", () => {
  test("new sessions hash by address (all of this one's made on one node); each player's requests then go to the one node their token hashes to, the tokens over both", async () => {
    const players = await Promise.all(Array.from({ length: 24 }, () => newSession(nginx.url)));
    // POST /api/session carries no token yet: the node of this address makes the player, and only that node's file has them.
    const homes = players.map((each) => nodesHolding(each.user_id));
    expect(homes.every((nodes) => nodes.length === 1)).toBe(true);
    expect(new Set(homes.map(([home]) => home!.address)).size).toBe(1);

    for (const [i, each] of players.entries()) {
      const ids = [0, 1, 2].map((n) => `spread-${n}-${each.user_id}`);
      const answers = [];
      for (const id of ids) {
        const me = await get("/api/me", each.token, id);
        answers.push({ status: me.status, body: (await me.json()) as { user_id?: string; error?: { message: string } } });
      }
      const upstreams = new Set(await Promise.all(ids.map(async (id) => (await logged(nginx, id)).upstream)));
      expect(upstreams.size).toBe(1);
      // From then on the token picks the node. With a store per node (SQLite), the player is known there only
      // when their session was made there too; elsewhere a clean 401 (docs/nodes.md: the nodes need a shared store).
      const [upstream] = upstreams;
      const known = upstream === homes[i]![0]!.address;
      for (const answer of answers) {
        expect(answer).toEqual(known ? { status: 200, body: expect.objectContaining({ user_id: each.user_id }) } : { status: 401, body: { error: expect.objectContaining({ code: "unauthorized", message: "no such player" }) } });
      }
    }
    // The tokens themselves spread over both nodes.
    const routed = new Set(await Promise.all(players.map(async (each) => (await logged(nginx, `spread-0-${each.user_id}`)).upstream)));
    expect([...routed].sort()).toEqual(apiNodes.map((node) => node.address).sort());

    // Requests without a token go to either node.
    const gridIds = Array.from({ length: 20 }, (_, i) => `grid-${i}-${crypto.randomUUID()}`);
    for (const id of gridIds) {
      const grid = await get("/api/grid", undefined, id);
      expect(grid.status).toBe(200);
      await grid.body?.cancel();
    }
    const served = new Set(await Promise.all(gridIds.map(async (id) => (await logged(nginx, id)).upstream)));
    expect([...served].sort()).toEqual(apiNodes.map((node) => node.address).sort());
  });

  test("a player stored on the node their token hashes to: 20 GET /api/me and their bets all land on that node, once each", async () => {
    player = await knownPlayer();
    const [home, ...others] = nodesHolding(player.user_id);
    expect(others).toEqual([]);
    const elsewhere = apiNodes.find((node) => node !== home)!;

    for (let i = 0; i < 20; i++) {
      const me = await get("/api/me", player.token, `me-${i}-${player.user_id}`);
      expect({ status: me.status, user: ((await me.json()) as { user_id: string }).user_id }).toEqual({ status: 200, user: player.user_id });
    }
    const grid = await getGrid(nginx.url, player.token);
    const keys = ["tap-1", "tap-2", "tap-3"];
    const placed: string[] = [];
    for (const key of keys) {
      const response = await postBet(nginx.url, player.token, { amount: 1, cell: cellOf(openCell(grid)) }, { "idempotency-key": key, "x-request-id": `bet-${key}-${player.user_id}` });
      expect(response.status).toBe(202);
      placed.push(((await response.json()) as BetAccepted).bet_id);
    }
    // A retry with the same key reaches the same node, which answers the first bet again.
    const retry = await postBet(nginx.url, player.token, { amount: 1, cell: cellOf(openCell(grid)) }, { "idempotency-key": "tap-1", "x-request-id": `bet-retry-${player.user_id}` });
    expect(retry.status).toBe(202);
    expect(((await retry.json()) as BetAccepted).bet_id).toBe(placed[0]!);

    expect(betKeys(home!, player.user_id)).toEqual(keys);
    expect(betKeys(elsewhere, player.user_id)).toEqual([]);
    // nginx's own account: every one of those requests went to the player's node, at the first try.
    const ids = [...Array.from({ length: 20 }, (_, i) => `me-${i}`), ...keys.map((key) => `bet-${key}`), "bet-retry"].map((id) => `${id}-${player.user_id}`);
    for (const id of ids) expect({ id, upstream: (await logged(nginx, id)).upstream }).toEqual({ id, upstream: home!.address });
  });
});

describe.skipIf(!run)("nginx in front of two ws nodes", () => {
  const clients: Client[] = [];

  afterAll(() => {
    for (const client of clients) client.socket.close();
  });

  test("websockets through nginx land on both ws nodes, and a player's bet events reach them on either", async () => {
    const owner = await knownPlayer();
    for (let i = 0; i < 16; i++) clients.push(await openClient());
    const counts = await waitFor("16 sockets counted by the two ws nodes", async () => {
      const each = await Promise.all(wsNodes.map(openSockets));
      return each[0]! + each[1]! === 16 ? each : undefined;
    });
    expect(counts.every((count) => count > 0)).toBe(true);

    for (const client of clients) client.socket.send(JSON.stringify({ type: "auth", token: owner.token }));
    for (const client of clients) await received(client, "authed", (message) => message.type === "authed" && message.user_id === owner.user_id);
    const response = await postBet(nginx.url, owner.token, { amount: 1, cell: cellOf(openCell(await getGrid(nginx.url, owner.token))) });
    expect(response.status).toBe(202);
    const { bet_id } = (await response.json()) as BetAccepted;
    for (const client of clients) await received(client, "the bet's accepted event", (message) => message.type === "bet" && message.bet_id === bet_id && message.status === "accepted");
  });

  test("kill -9 a ws node: its sockets close, the others stay; new sockets through nginx reach the other node and get the price and the grid", async () => {
    const [dead, alive] = wsNodes as [WsNode, WsNode];
    const before = await Promise.all([openSockets(dead), openSockets(alive)]);
    expect(before[0]).toBeGreaterThan(0);
    await dead.ws.stop("SIGKILL");

    await waitFor(`the ${before[0]} sockets of the killed node to close`, () => clients.filter((client) => client.closed).length === before[0]);
    expect(clients.filter((client) => !client.closed)).toHaveLength(before[1]!);
    expect(await openSockets(alive)).toBe(before[1]!);

    // The clients of the killed node reconnect: every one is let in, by the node that is up.
    const again: Client[] = [];
    for (let i = 0; i < before[0]!; i++) again.push(await openClient());
    clients.push(...again);
    expect(await waitFor("the reconnected sockets on the live node", async () => ((await openSockets(alive)) === before[1]! + before[0]! ? true : undefined))).toBe(true);

    // What the protocol promises a new connection (docs/ws-messages.md): the latest price at once, then each
    // tick; on subscribing to the grid, the latest grid at once.
    const fresh = again[0]!;
    await received(fresh, "the latest price", (message) => message.type === "price");
    fresh.socket.send(JSON.stringify({ type: "subscribe", channel: "grid" }));
    await received(fresh, "subscribed to the grid", (message) => message.type === "subscribed" && message.channel === "grid");
    const grid = expandGrid((await received(fresh, "the grid snapshot", (message) => message.type === "grid")).grid as CompactGrid);
    expect(grid.cells.length).toBeGreaterThan(0);
  });
});

describe.skipIf(!run)("which requests nginx sends to another api node", () => {
  /** A node that takes a request's head and hangs up without answering, as a node dying mid-request would. */
  function startHangingNode() {
    const heads: { method: string; requestId: string }[] = [];
    const listener = Bun.listen<{ head: string }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (socket) => void (socket.data = { head: "" }),
        data(socket, chunk) {
          socket.data.head += chunk.toString("latin1");
          if (!socket.data.head.includes("\r\n\r\n")) return;
          heads.push({ method: socket.data.head.split(" ", 1)[0]!, requestId: /^x-request-id: (.*)\r$/im.exec(socket.data.head)?.[1] ?? "" });
          socket.terminate();
        },
      },
    });
    return { port: listener.port, heads, stop: () => listener.stop(true) };
  }

  const live = () => apiNodes.find((node) => node.api.proc.exitCode === null && node.api.proc.signalCode === null)!;

  test("a request that could not be sent (connection refused) goes to the next node, a POST too", async () => {
    const deadPort = await freePort();
    await using front = await startNginx({ apiPorts: [deadPort, live().api.port], wsPorts: [wsNodes[1]!.port] });
    // Until one POST without a token (nobody's: spread over the nodes) was first sent to the dead node.
    const statuses: number[] = [];
    const refusedFirst = await waitFor("a POST /api/bets tried on the dead node first", async () => {
      const id = `refused-${crypto.randomUUID()}`;
      const response = await fetch(`${front.url}/api/bets`, { method: "POST", headers: { "content-type": "application/json", "x-request-id": id }, body: "{}" });
      statuses.push(response.status);
      await response.body?.cancel();
      const line = await logged(front, id);
      return String(line.upstream).startsWith(`127.0.0.1:${deadPort}, `) ? line : undefined;
    });
    // Every one answered by the live node (401: no token): the refused connection never showed.
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(refusedFirst).toMatchObject({ method: "POST", status: 401, upstream: `127.0.0.1:${deadPort}, ${live().address}`, upstream_status: "502, 401" });
    // A new session from this address goes to its node: the live one here, or the dead one first and then the live one.
    const made = await fetch(`${front.url}/api/session`, { method: "POST" });
    expect(made.status).toBe(201);
    await made.body?.cancel();
  });

  test("one address's new sessions and recovery tries meet one node's limits, as with a single node: two nodes do not double them", async () => {
    // Two more nodes of their own, 3 new sessions a minute per address (5 recovery tries, api/main.ts).
    const limited = await Promise.all(
      ["c", "d"].map((name) => startApi({ REDIS_URL: redis.url, LOG_LEVEL: "info", SESSIONS_PER_IP_PER_MIN: "3", DB_PATH: join(dir, `api-${name}.db`) })),
    );
    try {
      await using front = await startNginx({ apiPorts: limited.map((node) => node.port), wsPorts: [wsNodes[1]!.port] });
      const sessions = [];
      for (let i = 0; i < 4; i++) {
        const response = await fetch(`${front.url}/api/session`, { method: "POST", headers: { "x-request-id": `limited-${i}-${crypto.randomUUID()}` } });
        sessions.push({ status: response.status, body: (await response.json()) as { error?: { code: string } } });
      }
      // Spread over two nodes, all four would have been made (3 a node).
      expect(sessions.map((one) => one.status)).toEqual([201, 201, 201, 429]);
      expect(sessions[3]!.body.error?.code).toBe("rate_limited");
      const tries = [];
      for (let i = 0; i < 6; i++) {
        const response = await fetch(`${front.url}/api/session/recover`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code: `WRONG-CODE-${i}` }) });
        tries.push(response.status);
        await response.body?.cancel();
      }
      expect(tries).toEqual([401, 401, 401, 401, 401, 429]);
    } finally {
      await Promise.all(limited.map((node) => node.stop("SIGKILL")));
    }
  });

  test("a POST already sent to a node that then fails is not sent again (503, the player retries); a GET is", async () => {
    const hanging = startHangingNode();
    try {
      await using forPosts = await startNginx({ apiPorts: [hanging.port, live().api.port], wsPorts: [wsNodes[1]!.port] });
      // POST /api/bets without a token: nobody's, so any node; the live one answers 401.
      const statuses: number[] = [];
      const cut = await waitFor("a POST /api/bets sent to the hanging node", async () => {
        const id = `post-${crypto.randomUUID()}`;
        const response = await fetch(`${forPosts.url}/api/bets`, { method: "POST", headers: { "content-type": "application/json", "x-request-id": id }, body: "{}" });
        statuses.push(response.status);
        return response.status === 503 ? { id, body: await response.json() } : void (await response.body?.cancel());
      });
      // The live node's 401 (no token) until then, and the one 503.
      expect(statuses.slice(0, -1).every((status) => status === 401)).toBe(true);
      expect(cut.body).toMatchObject({ error: { code: "unavailable", request_id: cut.id } });
      expect(await logged(forPosts, cut.id)).toMatchObject({ method: "POST", status: 503, upstream: `127.0.0.1:${hanging.port}`, upstream_status: "502" });
      expect(hanging.heads.filter((head) => head.requestId === cut.id)).toEqual([{ method: "POST", requestId: cut.id }]);

      await using forGets = await startNginx({ apiPorts: [hanging.port, live().api.port], wsPorts: [wsNodes[1]!.port] });
      const gridStatuses: number[] = [];
      const moved = await waitFor("a GET /api/grid sent to the hanging node", async () => {
        const id = `get-${crypto.randomUUID()}`;
        const response = await fetch(`${forGets.url}/api/grid`, { headers: { "x-request-id": id } });
        gridStatuses.push(response.status);
        await response.body?.cancel();
        const line = await logged(forGets, id);
        return String(line.upstream).startsWith(`127.0.0.1:${hanging.port}, `) ? { id, line } : undefined;
      });
      expect(new Set(gridStatuses)).toEqual(new Set([200]));
      expect(moved.line).toMatchObject({ method: "GET", status: 200, upstream: `127.0.0.1:${hanging.port}, ${live().address}`, upstream_status: "502, 200" });
      expect(hanging.heads.filter((head) => head.requestId === moved.id)).toEqual([{ method: "GET", requestId: moved.id }]);
    } finally {
      hanging.stop();
    }
  });
});

describe.skipIf(!run)("an api node killed", () => {
  test("kill -9 a player's node: their next requests reach the other node, which answers a clean 401 (it does not know them); new players go there", async () => {
    const [home] = nodesHolding(player.user_id);
    const other = apiNodes.find((node) => node !== home)!;
    await home!.api.stop("SIGKILL");

    const first = await get("/api/me", player.token, `after-kill-${player.user_id}`);
    // The session token is valid on every node (HMAC with the shared secret), but this node's SQLite has no such player.
    expect(first.status).toBe(401);
    expect(await first.json()).toMatchObject({ error: { code: "unauthorized", message: "no such player" } });
    expect(await logged(nginx, `after-kill-${player.user_id}`)).toMatchObject({ status: 401, upstream: `${home!.address}, ${other.address}`, upstream_status: "502, 401" });

    for (let i = 0; i < 5; i++) {
      const me = await get("/api/me", player.token, `after-kill-${i}-${player.user_id}`);
      expect(me.status).toBe(401);
      await me.body?.cancel();
    }
    const bet = await postBet(nginx.url, player.token, { amount: 1, cell: cellOf(openCell(await getGrid(nginx.url, player.token))) }, { "idempotency-key": "after-kill", "x-request-id": `bet-after-kill-${player.user_id}` });
    expect(bet.status).toBe(401);
    expect(await bet.json()).toMatchObject({ error: { code: "unauthorized" } });
    expect(await logged(nginx, `bet-after-kill-${player.user_id}`)).toMatchObject({ status: 401, upstream: other.address });
    expect(betKeys(other, player.user_id)).toEqual([]);

    // The one node left serves everyone else: new players, the grid.
    const newcomers = await Promise.all(Array.from({ length: 6 }, () => newSession(nginx.url)));
    for (const newcomer of newcomers) expect(nodesHolding(newcomer.user_id)).toEqual([other]);
    const errors = nginx.accessLog().filter((line) => Number(line.status) >= 500);
    expect(errors).toEqual([]);
  });
});
