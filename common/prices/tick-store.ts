import type Redis from "ioredis";
import { Keys } from "../channels.ts";
import type { Tick } from "../contracts/price.ts";
import { parseTickMessage } from "./parse-tick.ts";

/** Where ticks are kept for readers that join late: the latest one and a recent history. */
export interface TickStore {
  /** Saves `tick` as the latest price and appends it to the history, trimming old entries. */
  record(tick: Tick): Promise<void>;
  latest(): Promise<Tick | undefined>;
  /** Ticks with `from <= ts <= to`, oldest first, at most `limit`. */
  range(from: number, to: number, limit: number): Promise<Tick[]>;
}

export interface RedisTickStoreOptions {
  /** History older than this (relative to the newest tick) is trimmed on each write. */
  retentionMs: number;
  /** The latest-price key expires so a dead feed is not shown as current for ever. */
  latestTtlSeconds?: number;
}

/**
 * Ticks in Redis: `price:btc:usd` (the latest, with a TTL) and the sorted set
 * `prices:btc:usd:ts` scored by tick time. The member is the tick's JSON, which
 * holds its time, so equal prices at different times stay distinct members.
 */
export function createRedisTickStore(redis: Redis, { retentionMs, latestTtlSeconds = 3600 }: RedisTickStoreOptions): TickStore {
  return {
    async record(tick) {
      const json = JSON.stringify(tick);
      await redis
        .multi()
        .set(Keys.latestPrice, json, "EX", latestTtlSeconds)
        .zadd(Keys.priceHistory, tick.ts, json)
        .zremrangebyscore(Keys.priceHistory, "-inf", `(${tick.ts - retentionMs}`)
        .exec();
    },
    async latest() {
      const raw = await redis.get(Keys.latestPrice);
      return raw === null ? undefined : parseTickMessage(raw, Date.now());
    },
    async range(from, to, limit) {
      const members = await redis.zrangebyscore(Keys.priceHistory, from, to, "LIMIT", 0, limit);
      return members.flatMap((raw) => parseTickMessage(raw, 0) ?? []);
    },
  };
}
