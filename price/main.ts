import type { Bus } from "../common/bus/mod.ts";
import { configOrExit } from "../common/config.ts";
import { createLogger } from "../common/log.ts";
import { createRedisTickStore } from "../common/prices/tick-store.ts";
import { closeRedis, createRedis } from "../common/redis.ts";
import { readPriceConfig } from "./config.ts";
import { createPriceSource } from "./sources/mod.ts";
import { startPriceWorker } from "./worker.ts";

/** How long shutdown waits for the tick in flight before closing Redis under it. */
const STOP_MS = 3000;

const config = configOrExit("price", () => readPriceConfig(process.env));
const log = createLogger({ component: "price", level: config.logLevel });

const redis = createRedis(config.redisUrl, log, "publisher");
// Price only publishes, so it needs no subscriber connection: PUBLISH goes on the
// same connection as the tick store's writes, after them.
const bus: Pick<Bus, "publish"> = {
  async publish(channel, message) {
    await redis.publish(channel, message);
  },
};
const source = createPriceSource({ kind: config.source, start: config.mockStart, volatility: config.mockVolatility, seed: config.mockSeed });

log.info(
  {
    source: config.source,
    intervalMs: config.intervalMs,
    retentionMs: config.retentionMs,
    mock: { start: config.mockStart, volatility: config.mockVolatility, seed: config.mockSeed },
    redis: config.redisUrl.replace(/\/\/[^@]*@/, "//***@"),
  },
  "price feed starting",
);

const worker = startPriceWorker({
  source,
  bus,
  ticks: createRedisTickStore(redis, { retentionMs: config.retentionMs }),
  intervalMs: config.intervalMs,
  summaryMs: config.summaryMs,
  log,
  // Ticks are skipped while Redis is away rather than piled into ioredis's offline queue.
  isConnected: () => redis.status === "ready",
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "shutting down");
  const stopped = await Promise.race([worker.stop().then(() => true), Bun.sleep(STOP_MS).then(() => false)]);
  if (!stopped) log.warn({ stop_ms: STOP_MS }, "tick in flight did not finish: closing anyway");
  await source.close();
  await closeRedis(redis);
  log.info("stopped");
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
