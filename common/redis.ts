import Redis from "ioredis";
import type { Logger } from "./log.ts";
import { counter } from "./metrics/registry.ts";

export type { Redis };

/**
 * How `createRedis` sets up a connection beyond its defaults.
 *
 * ```ts
 * const options: RedisOptions = { autoPipelining: true };
 * ```
 */
export interface RedisOptions {
  /** Batches commands issued in one event-loop turn into one write: for busy publishers. */
  autoPipelining?: boolean;
}

/** A command fails after this many reconnections rather than waiting for Redis for ever. */
const MAX_RETRIES_PER_REQUEST = 2;
/** Reconnection waits 100, 200, 400, … ms, at most `RECONNECT_MAX_MS`. */
const RECONNECT_BASE_MS = 50;
const RECONNECT_MAX_MS = 2000;
/** How long a polite `QUIT` may take before the connection is dropped. */
const QUIT_TIMEOUT_MS = 1000;

/**
 * An ioredis connection that retries for ever with a capped backoff, and logs
 * its state changes: a Redis restart must be survived, not crash the service.
 * `role` names the connection in the logs (publisher, subscriber, commands)
 * and in `tap_redis_reconnects_total` and `tap_redis_errors_total`.
 *
 * ```ts
 * const publisher = createRedis(config.redisUrl, log, "publisher", { autoPipelining: true });
 * ```
 */
export function createRedis(url: string, log: Logger, role: string, { autoPipelining = false }: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    enableAutoPipelining: autoPipelining,
    connectionName: `tap-trading:${role}`,
    lazyConnect: false,
    maxRetriesPerRequest: MAX_RETRIES_PER_REQUEST,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(RECONNECT_BASE_MS * 2 ** attempt, RECONNECT_MAX_MS),
  });
  const reconnects = counter<"role">({ name: "tap_redis_reconnects_total", help: "Redis connections made ready again after a loss, by the connection's role.", labelNames: ["role"] }).labels({ role });
  const errors = counter<"role">({ name: "tap_redis_errors_total", help: "Errors reported by a Redis connection (a refused connect, a reset), by the connection's role.", labelNames: ["role"] }).labels({ role });
  // Shown at 0 from the start: an alert on their rate needs the series before the first reconnect.
  reconnects.inc(0);
  errors.inc(0);
  let wasReady = false;
  redis.on("ready", () => {
    log.info({ redis: role, reconnected: wasReady }, wasReady ? "redis reconnected" : "redis connected");
    if (wasReady) reconnects.inc();
    wasReady = true;
  });
  redis.on("error", (error: Error) => {
    errors.inc();
    log.warn({ redis: role, err: error.message }, "redis error");
  });
  redis.on("end", () => log.info({ redis: role }, "redis connection closed"));
  return redis;
}

/**
 * Closes a connection politely, falling back to a hard disconnect when Redis is
 * gone (no answer to `QUIT` within a second). Closing a closed one does nothing.
 *
 * ```ts
 * await closeRedis(publisher);
 * ```
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === "end") return;
  try {
    await Promise.race([redis.quit(), Bun.sleep(QUIT_TIMEOUT_MS).then(() => Promise.reject(new Error("quit timed out")))]);
  } catch {
    redis.disconnect();
  }
}
