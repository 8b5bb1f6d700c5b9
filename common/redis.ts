import Redis from "ioredis";
import type { Logger } from "./log.ts";

export type { Redis };

/**
 * An ioredis connection that retries for ever with a capped backoff, and logs
 * its state changes: a Redis restart must be survived, not crash the service.
 * `role` names the connection in the logs (publisher, subscriber, commands).
 */
export interface RedisOptions {
  /** Batches commands issued in one event-loop turn into one write: for busy publishers. */
  autoPipelining?: boolean;
}

export function createRedis(url: string, log: Logger, role: string, { autoPipelining = false }: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    enableAutoPipelining: autoPipelining,
    connectionName: `tap-trading:${role}`,
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  });
  let wasReady = false;
  redis.on("ready", () => {
    log.info({ redis: role, reconnected: wasReady }, wasReady ? "redis reconnected" : "redis connected");
    wasReady = true;
  });
  redis.on("error", (error: Error) => log.warn({ redis: role, err: error.message }, "redis error"));
  redis.on("end", () => log.info({ redis: role }, "redis connection closed"));
  return redis;
}

/** Closes a connection politely, falling back to a hard disconnect when Redis is gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === "end") return;
  try {
    await Promise.race([redis.quit(), Bun.sleep(1000).then(() => Promise.reject(new Error("quit timed out")))]);
  } catch {
    redis.disconnect();
  }
}
