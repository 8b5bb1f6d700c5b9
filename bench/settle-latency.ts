/**
 * Tick → settled-bet event latency: a tick published on Redis that touches
 * players' bets, to the `won` event on each player's websocket, with 5,000
 * clients connected to ws (target: p99 under 50 ms).
 *
 *   node_modules/.bin/bun bench/settle-latency.ts [--clients 5000] [--players 200] [--rounds 5] [--tick-ms 1000]
 *
 * The API, ws and a private redis-server run as real processes. Each round,
 * every player bets on the same cell of a window starting a few seconds out;
 * once the window opens one tick moves the price into that band, and each
 * player's socket times the `won` event against the tick's publish time.
 * The other clients only listen to prices, as idle players would, in two
 * processes of their own (bench/lib/idle-clients.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Grid } from "../common/contracts/grid.ts";
import { cellOf, getGrid, newSession, postBet } from "../test/support/api-client.ts";
import { freePort } from "../test/support/ports.ts";
import { startRedis } from "../test/support/redis-server.ts";
import { spawnService, waitForHttp } from "../test/support/service.ts";
import { startTickPump } from "../test/support/tick-pump.ts";
import { waitFor } from "../test/support/wait.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "5000" },
    players: { type: "string", default: "200" },
    rounds: { type: "string", default: "5" },
    // The price service's default; every tick is fanned out to all clients.
    "tick-ms": { type: "string", default: "1000" },
  },
});
const clients = Number(values.clients);
const playerCount = Number(values.players);
const rounds = Number(values.rounds);

const redis = await startRedis();
const pump = await startTickPump(redis.url, 42_000, Number(values["tick-ms"]));
const dir = mkdtempSync(join(tmpdir(), "tap-bench-latency-"));
const apiPort = await freePort();
const wsPort = await freePort();
const base = `http://127.0.0.1:${apiPort}`;
const quiet = { LOG_LEVEL: "warn", COLUMN_MS: "1000", LOCK_MS: "500", STALE_MS: "2000", SIGMA_FLOOR: "0.0003", SESSIONS_PER_IP_PER_MIN: "1000000" };
const api = spawnService("api", { PORT: String(apiPort), REDIS_URL: redis.url, DB_PATH: join(dir, "bets.db"), MAX_CELL_LIABILITY: "100000000", ...quiet });
const ws = spawnService("ws", { PORT: String(wsPort), REDIS_URL: redis.url, LOG_LEVEL: "warn", WS_MAX_CONNECTIONS: String(clients + 100) });
const latencies: number[] = [];
const sockets: WebSocket[] = [];
const idle: ReturnType<typeof Bun.spawn>[] = [];
try {
  await waitForHttp(`${base}/healthz`);
  await waitForHttp(`http://127.0.0.1:${wsPort}/healthz`);
  await waitFor("a priced grid", async () => (await fetch(`${base}/api/grid`)).status === 200);
  const url = `ws://127.0.0.1:${wsPort}/ws`;
  const open = (onMessage?: (data: string) => void) =>
    new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.onopen = () => resolve(socket);
      socket.onerror = () => reject(new Error("websocket failed"));
      if (onMessage) socket.onmessage = (event) => onMessage(String(event.data));
      sockets.push(socket);
    });

  const players = [];
  let publishedAt = 0;
  let expected = new Set<string>();
  for (let i = 0; i < playerCount; i++) {
    const session = await newSession(base);
    const socket = await open((data) => {
      if (!data.includes('"won"')) return;
      const event = JSON.parse(data) as { bet_id: string };
      if (expected.delete(event.bet_id)) latencies.push(performance.now() - publishedAt);
    });
    socket.send(JSON.stringify({ type: "auth", token: session.token }));
    players.push(session);
  }
  // The idle clients live in two processes of their own: reading 5,000 price frames per tick
  // must not delay this process's reading of the players' events.
  for (const share of [Math.ceil((clients - playerCount) / 2), Math.floor((clients - playerCount) / 2)]) {
    const child = Bun.spawn([process.execPath, join(import.meta.dir, "lib", "idle-clients.ts"), url, String(share)], { stdout: "pipe", stderr: "inherit" });
    idle.push(child);
    const reader = (child.stdout as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    if (!new TextDecoder().decode(value).includes("ready")) throw new Error("idle clients did not start");
    reader.releaseLock();
  }
  console.log(`connected ${clients} clients (${playerCount} authenticated players here, the rest in 2 idle-client processes)`);

  for (let round = 0; round < rounds; round++) {
    const grid: Grid = await getGrid(base);
    const start = grid.cells.map((c) => c.t_start).filter((t) => t - Date.now() >= 2500).sort((a, b) => a - b)[0]!;
    const cell = grid.cells.find((c) => c.t_start === start && c.price_low === 42_030);
    if (!cell) throw new Error("no cell to bet on");
    expected = new Set();
    await Promise.all(
      players.map(async (player) => {
        const response = await postBet(base, player.token, { amount: 1, cell: cellOf(cell) });
        if (response.status === 202) expected.add(((await response.json()) as { bet_id: string }).bet_id);
        else await response.body?.cancel();
      }),
    );
    const bets = expected.size;
    while (Date.now() < start + 100) await Bun.sleep(5);
    publishedAt = performance.now();
    await pump.publish(42_035);
    await waitFor("every won event", () => expected.size === 0, 10_000, 5);
    await pump.publish(42_000);
    console.log(`round ${round + 1}: ${bets} bets settled`);
    await Bun.sleep(1500);
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(1);
  console.log(`tick → won event, ${latencies.length} events, ${clients} clients, a tick every ${values["tick-ms"]} ms: p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${pct(100)} ms`);
} finally {
  for (const socket of sockets) socket.close();
  for (const child of idle) child.kill("SIGTERM");
  await pump.stop();
  await api.stop("SIGKILL");
  await ws.stop("SIGKILL");
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
