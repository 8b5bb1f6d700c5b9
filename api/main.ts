import { configOrExit } from "../common/config.ts";
import { createLogger, createStdoutSink } from "../common/log.ts";
import { createRedisTickStore } from "../common/prices/tick-store.ts";
import { closeRedis, createRedis } from "../common/redis.ts";
import { openStore } from "../common/store/sqlite.ts";
import { createApp } from "./app.ts";
import { createGroupCommitter } from "./bets/group-commit.ts";
import { createBetRepository } from "./bets/repository.ts";
import { readApiConfig } from "./config.ts";
import { createRequestLogger } from "./http/request-log.ts";

/** How long in-flight requests may take to finish at shutdown. */
const DRAIN_MS = 10_000;

const config = configOrExit("api", () => readApiConfig(process.env));
const sink = createStdoutSink();
const log = createLogger({ component: "api", level: config.logLevel, sink });

const db = openStore(config.dbPath);
const redis = createRedis(config.redisUrl, log, "commands");
const repository = createBetRepository(db);
const bets = createGroupCommitter(repository.insertMany);
const app = createApp({
  log,
  logRequest: createRequestLogger(sink, log.isLevelEnabled("info")),
  db,
  redis,
  ticks: createRedisTickStore(redis, { retentionMs: 60 * 60 * 1000 }),
  bets,
  corsOrigins: config.corsOrigins,
  testRoutes: config.testRoutes,
});

// Above the API's own 16 KiB limit, so oversized bodies get the error contract from our parser.
app.listen({ port: config.port, maxRequestBodySize: 1024 * 1024 });
log.info({ port: app.server?.port, db: config.dbPath, redis: config.redisUrl.replace(/\/\/[^@]*@/, "//***@") }, "api listening");

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "shutting down: draining in-flight requests");
  const server = app.server;
  if (server) {
    const drained = await Promise.race([server.stop(false).then(() => true), Bun.sleep(DRAIN_MS).then(() => false)]);
    if (!drained) {
      log.warn({ drain_ms: DRAIN_MS }, "drain timed out: closing remaining connections");
      await server.stop(true);
    }
  }
  bets.flush();
  await closeRedis(redis);
  db.close();
  log.info("stopped");
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
