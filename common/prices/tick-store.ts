import type Redis from "ioredis";
import { Channels, Keys } from "../channels.ts";
import type { BusTick, LabelledTick, Tick } from "../contracts/price.ts";
import { parseBusTick } from "./parse-tick.ts";

/** Where ticks are kept for readers that join late: the latest one and a recent history. */
export interface TickStore {
  /**
   * Saves `tick` as the latest price, appends it to the history (trimming old
   * entries) and publishes it on `prices:btc:usd`, all in one transaction: a
   * tick anybody heard is always in the history, so a reader that missed it
   * can read it back.
   */
  publish(tick: BusTick): Promise<void>;
  /** The latest tick, with its `source` and venue count when it has them. */
  latest(): Promise<LabelledTick | undefined>;
  /** Ticks with `from <= ts <= to`, oldest first, at most `limit` (symbol, price and time only). */
  range(from: number, to: number, limit: number): Promise<Tick[]>;
  /** The stored messages with `after < ts <= to`, oldest first, at most `limit`, as stored (number and signature included). */
  history(after: number, to: number, limit: number): Promise<string[]>;
  /** The newest stored message, as stored; undefined when the history is empty. */
  newest(): Promise<string | undefined>;
}

export interface RedisTickStoreOptions {
  /** History older than this (relative to the newest tick) is trimmed on each write. */
  retentionMs: number;
  /** The latest-price key expires so a dead feed is not shown as current for ever. */
  latestTtlSeconds?: number;
  /** Which stored ticks `latest` and `range` may hand out (the price service's signature check); all by default. */
  believe?: (tick: BusTick) => boolean;
}

/**
 * Ticks in Redis: `price:btc:usd` (the latest, with a TTL) and the sorted set
 * `prices:btc:usd:ts` scored by tick time. The member is the tick's JSON, which
 * holds its time, so equal prices at different times stay distinct members.
 */
export function createRedisTickStore(redis: Redis, { retentionMs, latestTtlSeconds = 3600, believe = () => true }: RedisTickStoreOptions): TickStore {
  /** A stored message as readers outside settlement see it (symbol, price, time), when it may be believed. */
  const read = (raw: string, receivedAt: number): Tick | undefined => {
    const tick = parseBusTick(raw, receivedAt);
    return tick && believe(tick) ? { symbol: tick.symbol, price: tick.price, ts: tick.ts } : undefined;
  };
  return {
    async publish(tick) {
      const json = JSON.stringify(tick);
      const results = await redis
        .multi()
        .set(Keys.latestPrice, json, "EX", latestTtlSeconds)
        .zadd(Keys.priceHistory, tick.ts, json)
        .zremrangebyscore(Keys.priceHistory, "-inf", `(${tick.ts - retentionMs}`)
        .publish(Channels.priceTicks, json)
        .exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error("the tick's transaction was discarded");
    },
    async latest() {
      const raw = await redis.get(Keys.latestPrice);
      const tick = raw === null ? undefined : parseBusTick(raw, Date.now());
      return tick && believe(tick) ? labelled(tick) : undefined;
    },
    async range(from, to, limit) {
      const members = await redis.zrangebyscore(Keys.priceHistory, from, to, "LIMIT", 0, limit);
      return members.flatMap((raw) => read(raw, 0) ?? []);
    },
    history(after, to, limit) {
      return redis.zrangebyscore(Keys.priceHistory, `(${after}`, to, "LIMIT", 0, limit);
    },
    async newest() {
      const [raw] = await redis.zrange(Keys.priceHistory, -1, -1);
      return raw;
    },
  };
}

/** A tick's price, time and label (`source`, `venues`), without its number and signature. */
export function labelled(tick: BusTick): LabelledTick {
  const result: LabelledTick = { symbol: tick.symbol, price: tick.price, ts: tick.ts };
  if (tick.source !== undefined) result.source = tick.source;
  if (tick.venues !== undefined) result.venues = tick.venues;
  return result;
}
