/**
 * The websocket service: reads the environment, wires Redis, the bus and the
 * server, and shuts down cleanly on SIGINT/SIGTERM (clients get 1001).
 */
import { createRedisBus } from "../common/bus/mod.ts";
import { configOrExit, redactRedisUrl } from "../common/config.ts";
import { createLogger, createStdoutSink } from "../common/log.ts";
import { urlPassword } from "../common/redact.ts";
import { createTickSigner } from "../common/prices/tick-signature.ts";
import { createRedisTickStore } from "../common/prices/tick-store.ts";
import { closeRedis, createRedis, type Redis } from "../common/redis.ts";
import { createSessionTokens } from "../common/sessions/token.ts";
import { readWsConfig } from "./config.ts";
import { startWsServer, type WsServer } from "./server.ts";

const config = configOrExit("ws", () => readWsConfig(process.env));
const logSink = createStdoutSink();
const log = createLogger({ component: "ws", level: config.logLevel, sink: logSink, secrets: [config.sessionSecret, config.priceSigningKey, urlPassword(config.redisUrl)] });
const tokens = config.sessionSecret ? createSessionTokens(config.sessionSecret) : undefined;
if (!tokens) log.warn("no SESSION_SECRET or SESSION_SECRET_FILE: players cannot authenticate, so no bet events are delivered");

process.on("unhandledRejection", (error) => log.error({ err: String(error) }, "unhandled rejection"));

const commands = createRedis(config.redisUrl, log, "commands");
const subscriber = createRedis(config.redisUrl, log, "subscriber");
const bus = createRedisBus({
  publisher: commands,
  subscriber,
  onHandlerError: (error, channel) => log.error({ channel, err: String(error) }, "bus handler failed"),
});
// ws only reads the latest price; the price service writes it and trims the history.
// With the price service's key, only ticks it signed reach clients, the snapshot on connect included.
const priceSigner = config.priceSigningKey ? createTickSigner(config.priceSigningKey) : undefined;
const ticks = createRedisTickStore(commands, { retentionMs: 0, ...(priceSigner ? { believe: priceSigner.verify } : {}) });

/**
 * A SUBSCRIBE sent while Redis is unreachable fails after a few retries and is
 * then not resubscribed, so the bridge subscribes once the connection is up.
 */
async function untilReady(redis: Redis): Promise<void> {
  if (redis.status === "ready") return;
  log.debug({ redis: redactRedisUrl(config.redisUrl) }, "waiting for redis");
  await new Promise((resolve) => redis.once("ready", resolve));
}

let server: WsServer | undefined;
let stopping = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal, connections: server?.stats().connections ?? 0 }, "shutting down");
  await server?.shutdown();
  await bus.close().catch((error: Error) => log.warn({ err: error.message }, "could not close the bus"));
  await closeRedis(commands);
  log.info("stopped");
  process.exit(0);
}
process.on("SIGTERM", (signal) => void shutdown(signal));
process.on("SIGINT", (signal) => void shutdown(signal));

await untilReady(subscriber);
if (!stopping) {
  server = await startWsServer({
    port: config.port,
    hostname: config.host,
    bus,
    latestTick: () => ticks.latest(),
    priceHistory: ticks,
    ...(priceSigner ? { priceSigner } : {}),
    log,
    logSink,
    ...(tokens ? { verifyToken: (token: string) => tokens.verify(token, Date.now()) } : {}),
    limits: {
      idleTimeoutS: config.idleTimeoutS,
      backpressureLimitBytes: config.backpressureLimitBytes,
      slowClientGraceMs: config.slowClientGraceMs,
      maxConnections: config.maxConnections,
      maxMessagesPerS: config.maxMessagesPerS,
      priceShards: config.priceShards,
      gridSpreadMs: config.gridSpreadMs,
    },
  });
  log.info(
    {
      port: server.port,
      host: config.host,
      idle_timeout_s: config.idleTimeoutS,
      backpressure_limit_bytes: config.backpressureLimitBytes,
      slow_client_grace_ms: config.slowClientGraceMs,
      max_connections: config.maxConnections,
      max_messages_per_s: config.maxMessagesPerS,
      price_shards: config.priceShards,
      grid_spread_ms: config.gridSpreadMs,
    },
    "listening",
  );
}
