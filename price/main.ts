import { configOrExit, redactRedisUrl } from "../common/config.ts";
import { createLogger } from "../common/log.ts";
import { urlPassword } from "../common/redact.ts";
import { startProcessMetrics } from "../common/metrics/registry.ts";
import { createTickSigner } from "../common/prices/tick-signature.ts";
import { createRedisTickStore } from "../common/prices/tick-store.ts";
import { closeRedis, createRedis } from "../common/redis.ts";
import { readPriceConfig } from "./config.ts";
import { readContinuation } from "./continuation.ts";
import { createRecorder, recordComputes } from "./recording/mod.ts";
import { replayCommand } from "./replay.ts";
import { type PriceHealth, registerPriceMetrics, startPriceHealth } from "./health.ts";
import { createPriceSource } from "./sources/mod.ts";
import { createVenuesSource } from "./sources/venues.ts";
import { startVenueFeeds } from "./venues/mod.ts";
import { startPriceWorker } from "./worker.ts";

/** How long shutdown waits for the tick in flight before closing Redis under it. */
const STOP_MS = 3000;
/** Without venues, the service is down once its last tick is older than this many intervals. */
const STALE_AFTER_INTERVALS = 5;
/** Reading the stored newest tick is retried after 100, 200, … ms, then every second. */
const CONTINUATION_RETRY_STEP_MS = 100;
const CONTINUATION_RETRY_MAX_MS = 1000;

// `price replay <file...>` rebuilds a recording's ticks (docs/price-index.md) and exits; it starts no service.
if (process.argv[2] === "replay") process.exit(await replayCommand(process.argv.slice(3)));

const config = configOrExit("price", () => readPriceConfig(process.env));
startProcessMetrics("price");
const log = createLogger({ component: "price", level: config.logLevel, secrets: [config.signingKey, urlPassword(config.redisUrl)] });

const redis = createRedis(config.redisUrl, log, "publisher");
// Price only publishes, so it needs no subscriber connection: each tick is stored and
// published in one transaction (common/prices/tick-store.ts).
const ticks = createRedisTickStore(redis, { retentionMs: config.retentionMs });
const signer = config.signingKey ? createTickSigner(config.signingKey) : undefined;
if (!signer) log.warn("no PRICE_SIGNING_KEY or PRICE_SIGNING_KEY_FILE: ticks go out unsigned, and consumers without a key take them");

/** The newest stored tick, read before the first one is made: Redis may still be starting. */
async function continuation() {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readContinuation(ticks, signer);
    } catch (error) {
      if (attempt === 1) log.warn({ err: (error as Error).message }, "cannot read the stored ticks yet; retrying before the first tick");
      await Bun.sleep(Math.min(CONTINUATION_RETRY_STEP_MS * attempt, CONTINUATION_RETRY_MAX_MS));
    }
  }
}
const resumed = await continuation();
if (resumed.from) log.info({ seq: resumed.from.seq, ts: resumed.from.ts, price: resumed.from.price }, "continuing from the stored newest tick");
else log.info("no stored tick to continue: numbering from the first tick's time");
// Recording the venues' frames and the ticks, for `price replay`: only the venues' ticks can be rebuilt.
if (config.recording.dir && config.source !== "venues") log.warn({ dir: config.recording.dir }, "PRICE_RECORD_DIR is set but PRICE_SOURCE is not venues: nothing is recorded");
const recorder =
  config.recording.dir && config.source === "venues"
    ? createRecorder({ dir: config.recording.dir, maxBytes: config.recording.maxBytes, maxFiles: config.recording.maxFiles, intervalMs: config.intervalMs, index: config.venues, log })
    : undefined;
// The exchanges' feeds, or the mock; never both, never a fallback from one to the other here.
const feeds = config.source === "venues" ? startVenueFeeds({ config: config.venues, log, ...(recorder ? { onOpen: recorder.open, onFrame: recorder.frame } : {}) }) : undefined;
const venuesSource = feeds ? createVenuesSource({ index: recorder ? recordComputes(feeds.index, recorder) : feeds.index, release: feeds.close }) : undefined;
const source =
  venuesSource ?? createPriceSource({ kind: "mock", start: resumed.price ?? config.mockStart, volatility: config.mockVolatility, seed: config.mockSeed });

log.info(
  {
    source: config.source,
    intervalMs: config.intervalMs,
    retentionMs: config.retentionMs,
    mock: { start: config.mockStart, volatility: config.mockVolatility, seed: config.mockSeed },
    redis: redactRedisUrl(config.redisUrl),
  },
  "price feed starting",
);

const worker = startPriceWorker({
  source,
  ticks,
  ...(signer ? { sign: signer.sign } : {}),
  ...(resumed.firstSeq === undefined ? {} : { firstSeq: resumed.firstSeq }),
  intervalMs: config.intervalMs,
  summaryMs: config.summaryMs,
  log,
  // Ticks are skipped while Redis is away rather than piled into ioredis's offline queue.
  isConnected: () => redis.status === "ready",
  ...(recorder ? { onPublished: recorder.tick } : {}),
});

/** ok: every venue live; degraded: a quorum, not all; down: no tick can be made (no quorum, or none made lately). */
function health(): PriceHealth {
  const now = Date.now();
  const last = worker.stats().last;
  const lastTick = last ? { ts: last.ts, age_ms: now - last.ts, venues: last.venues ?? null } : null;
  if (!feeds) return { status: lastTick && lastTick.age_ms <= STALE_AFTER_INTERVALS * config.intervalMs ? "ok" : "down", source: config.source, venues: {}, last_tick: lastTick };
  const venues = feeds.health(now);
  // As of the last tick's computation: the index is computed once per interval, by the tick loop only.
  const quorum = venuesSource?.lastResult()?.price !== undefined;
  const allLive = Object.values(venues).every((venue) => venue.state === "live");
  return { status: !quorum ? "down" : allLive ? "ok" : "degraded", source: config.source, venues, last_tick: lastTick };
}
// Read at scrape time from what the health report and the tick loop already count (GET /metrics on the health port).
registerPriceMetrics({ report: health, stats: () => worker.stats() });
let healthServer: ReturnType<typeof startPriceHealth> | undefined;
try {
  healthServer = startPriceHealth({ port: config.port, hostname: config.host, report: health, log });
} catch (error) {
  // Ticks matter more than the health check: say so and go on publishing.
  log.error({ port: config.port, err: (error as Error).message }, "cannot listen for /healthz; going on without it");
}

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "shutting down");
  const stopped = await Promise.race([worker.stop().then(() => true), Bun.sleep(STOP_MS).then(() => false)]);
  if (!stopped) log.warn({ stop_ms: STOP_MS }, "tick in flight did not finish: closing anyway");
  await healthServer?.stop();
  await source.close();
  await recorder?.close();
  await closeRedis(redis);
  log.info("stopped");
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
