/**
 * Slow readers end to end: the ws service as a real process behind the
 * production nginx site, a private redis-server, grids published on Redis.
 * A client that stops reading is closed by ws (slow_consumer, 4003) a grace
 * after it falls a limit behind, whatever nginx and the kernel buffer on the
 * way; a client reading through the same nginx is not.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Channels } from "../common/channels.ts";
import type { CompactGrid } from "../common/contracts/grid.ts";
import { WsCloseCode } from "../common/contracts/ws.ts";
import { createLogger } from "../common/log.ts";
import { scrapeValue } from "../common/metrics/samples.ts";
import { createRedis, type Redis } from "../common/redis.ts";
import { nginxUnavailable, startNginx, type TestNginx } from "./support/nginx.ts";
import { freePort } from "./support/ports.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningService, spawnService, waitForHttp } from "./support/service.ts";
import { openSlowReader } from "./support/slow-reader.ts";
import { waitFor } from "./support/wait.ts";

setDefaultTimeout(30_000);

const missing = nginxUnavailable();
if (missing && !process.env.CI) console.warn(`test/ws-slow-readers.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

const LIMIT = 64 * 1024;
const GRACE_MS = 1000;

let redis: TestRedis;
let publisher: Redis;
let ws: RunningService;
let wsPort: number;
let nginx: TestNginx;

/**
 * A grid of about 30 kB, as the API publishes it (compact): one band and 2,700 columns, far more than the
 * default grid's 3 kB, so that the test still fills the limit quickly.
 */
function grid(ts = Date.now()): string {
  const columns = 2_700;
  const compact: CompactGrid = {
    ts, price: 42005, price_ts: ts, sigma: 0.0005, quote_id: "q", expires_at: ts + 1000, column_ms: 5000, band: 10, lock_ms: 2000, house_edge: 0.05, min_rtp: 0.9,
    first_t_start: ts, columns, first_price_low: 42000, bands: 1, locked: "0".repeat(columns), offered: "1".repeat(columns),
    multipliers: Array(columns).fill(1.5), rtp_e4: Array(columns).fill(9400),
  };
  return JSON.stringify(compact);
}

describe.skipIf(!run)("slow readers through nginx (ws as a process)", () => {
  beforeAll(async () => {
    if (missing) throw new Error(`CI must have nginx: ${missing}`);
    redis = await startRedis();
    publisher = createRedis(redis.url, createLogger({ component: "test", level: "silent" }), "test-publisher");
    wsPort = await freePort();
    ws = spawnService("ws", {
      PORT: String(wsPort),
      REDIS_URL: redis.url,
      WS_BACKPRESSURE_LIMIT_BYTES: String(LIMIT),
      WS_SLOW_CLIENT_GRACE_MS: String(GRACE_MS),
    });
    await waitForHttp(`http://127.0.0.1:${wsPort}/healthz`);
    await waitFor("ws subscribed to the grid", async () => Number(((await publisher.pubsub("NUMSUB", Channels.grid)) as [string, number])[1]) >= 1);
    nginx = await startNginx({ apiPort: await freePort(), wsPort });
  }, 60_000);

  afterAll(async () => {
    await nginx?.stop();
    await ws?.stop("SIGKILL");
    publisher?.disconnect();
    await redis?.stop();
  });

  test("a client that stops reading is closed with 4003 a grace after it falls the limit behind; a reading client is not", async () => {
    const url = `${nginx.url.replace("http", "ws")}/ws`;
    const reader = new WebSocket(url);
    const grids: number[] = [];
    let readerClosed = false;
    reader.addEventListener("message", (event) => {
      if (typeof event.data === "string" && event.data.startsWith('{"type":"grid"')) grids.push(event.data.length);
    });
    reader.addEventListener("close", () => (readerClosed = true));
    await new Promise((resolve, reject) => {
      reader.addEventListener("open", resolve, { once: true });
      reader.addEventListener("error", reject, { once: true });
    });
    reader.send('{"type":"subscribe","channel":"grid"}');
    await using slow = await openSlowReader({ port: nginx.port, commands: ['{"type":"subscribe","channel":"grid"}'] });
    const metric = (name: string) => scrapeValue(`http://127.0.0.1:${wsPort}/metrics`, name);
    await waitFor("both clients at ws", async () => (await metric("tap_ws_connections")) === 2);
    await Bun.sleep(100); // their subscribe commands are read

    // 600 kB/s: over the limit within 0.2 s; the buffers of ws, nginx and the kernel (MBs) would take it for seconds.
    const started = performance.now();
    let published = 0;
    let closedAfterMs = Number.NaN;
    while (performance.now() - started < GRACE_MS + 4000) {
      await publisher.publish(Channels.grid, grid());
      published++;
      await Bun.sleep(50);
      if ((await metric("tap_ws_slow_consumers_dropped_total")) === 1) {
        closedAfterMs = performance.now() - started;
        break;
      }
    }
    expect(closedAfterMs).toBeGreaterThanOrEqual(GRACE_MS);
    expect(closedAfterMs).toBeLessThan(GRACE_MS + 2500);
    const line = await ws.waitForLog("the close line", (l) => l.msg === "connection closed" && l.closed_by === "slow reader");
    expect(line).toMatchObject({ code: WsCloseCode.slowConsumer });
    // Through nginx, behind what it had not read: the error, then the close frame.
    expect(await slow.closeFrame()).toMatchObject({ code: WsCloseCode.slowConsumer });

    await waitFor("every grid on the reading client", () => grids.length === published);
    expect(readerClosed).toBe(false);
    expect(await metric("tap_ws_connections")).toBe(1);
    reader.close();
  });
});
