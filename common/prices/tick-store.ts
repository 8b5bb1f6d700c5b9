import type Redis from "ioredis";
import { Channels, Keys } from "../channels.ts";
import type { BusTick, LabelledTick, Tick } from "../contracts/price.ts";
import { parseBusTick } from "./parse-tick.ts";

/**
 * Where ticks are kept for readers that join late: the latest one and a recent history.
 *
 * ```ts
 * await ticks.publish({ symbol: "BTC-USD", price: 87_415.3, ts: Date.now(), seq: 7 });
 * const lastMinute = await ticks.newestInRange(Date.now() - 60_000, Date.now(), 1000);
 * ```
 */
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
  /** The newest `limit` ticks with `from <= ts <= to`, oldest first (symbol, price and time only). */
  newestInRange(from: number, to: number, limit: number): Promise<Tick[]>;
  /** The stored messages with `after < ts <= to`, oldest first, at most `limit`, as stored (number and signature included). */
  history(after: number, to: number, limit: number): Promise<string[]>;
  /** The newest stored message, as stored; undefined when the history is empty. */
  newest(): Promise<string | undefined>;
}

/**
 * How much history `createRedisTickStore` keeps, how long the latest price
 * stands (`DEFAULT_LATEST_TTL_SECONDS` unless set), and which ticks it hands out.
 *
 * ```ts
 * const options: RedisTickStoreOptions = { retentionMs: 3_600_000, believe: signer.verify };
 * ```
 */
export interface RedisTickStoreOptions {
  /** History older than this (relative to the newest tick) is trimmed on each write. */
  retentionMs: number;
  /** The latest-price key expires so a dead feed is not shown as current for ever. */
  latestTtlSeconds?: number;
  /** Which stored ticks `latest` and `range` may hand out (the price service's signature check); all by default. */
  believe?: (tick: BusTick) => boolean;
}

/** The latest price outlives a feed that stopped by an hour at most, then reads as none. */
const DEFAULT_LATEST_TTL_SECONDS = 3600;

/**
 * Ticks in Redis: `price:btc:usd` (the latest, with a TTL) and the sorted set
 * `prices:btc:usd:ts` scored by tick time. The member is the tick's JSON, which
 * holds its time, so equal prices at different times stay distinct members.
 *
 * ```ts
 * const ticks = createRedisTickStore(createRedis(config.redisUrl), { retentionMs: 3_600_000 });
 * await ticks.latest(); // undefined until a tick is published
 * ```
 */
export function createRedisTickStore(redis: Redis, { retentionMs, latestTtlSeconds = DEFAULT_LATEST_TTL_SECONDS, believe = () => true }: RedisTickStoreOptions): TickStore {
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
    async newestInRange(from, to, limit) {
      // Newest first with ZRANGE … BYSCORE REV (Redis 6.2+; the ACLs that allow ZRANGE allow it),
      // page after page below the last score read, until `limit` ticks that may be believed are found.
      const found: Tick[] = [];
      let upper = String(to);
      while (found.length < limit) {
        const want = limit - found.length;
        const page = await redis.zrange(Keys.priceHistory, upper, from, "BYSCORE", "REV", "LIMIT", 0, want, "WITHSCORES");
        for (let i = 0; i < page.length; i += 2) {
          const tick = read(page[i]!, 0);
          if (tick) found.push(tick);
        }
        if (page.length / 2 < want) break;
        upper = `(${page.at(-1)}`;
      }
      return found.reverse();
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

/**
 * A tick's price, time and label (`source`, `venues`), without its number and signature.
 *
 * ```ts
 * labelled({ symbol: "BTC-USD", price: 87_415.3, ts: 1_767_225_600_000, seq: 7, sig: "…", source: "venues", venues: 3, dispersion_bps: 1.2 });
 * // { symbol: "BTC-USD", price: 87415.3, ts: 1767225600000, source: "venues", venues: 3 }
 * ```
 */
export function labelled(tick: BusTick): LabelledTick {
  const result: LabelledTick = { symbol: tick.symbol, price: tick.price, ts: tick.ts };
  if (tick.source !== undefined) result.source = tick.source;
  if (tick.venues !== undefined) result.venues = tick.venues;
  return result;
}
