/**
 * Every Redis channel and key the services share, named once.
 *
 * Channels carry pub/sub messages (fire and forget); keys hold state that a
 * process joining late can read (the latest price, the recent tick history).
 *
 * ```ts
 * await bus.subscribe(Channels.priceTicks, (raw) => sequencer.push(raw));
 * ```
 */
export const Channels = {
  /** One message per BTC/USD tick: the JSON `Tick`, or (from the original plan) a plain "42012.34". */
  priceTicks: "prices:btc:usd",
  /** The priced grid (`CompactGrid` JSON, common/grid-codec.ts), once a second, from the API that settles. */
  grid: "grid:btc:usd",
  /** Per-player bet events (a `BetEventBatch`: each `BetEvent` with its `player_id`), from the API to every ws process. */
  betEvents: "bets:events",
} as const;

/**
 * The Redis keys the services share (common/prices/tick-store.ts writes them).
 *
 * ```ts
 * await redis.zrangebyscore(Keys.priceHistory, from, to);
 * ```
 */
export const Keys = {
  /** The latest tick as JSON, with a TTL so a dead feed does not look alive forever. */
  latestPrice: "price:btc:usd",
  /** Sorted set of recent ticks scored by their time in ms; member is the tick's JSON. */
  priceHistory: "prices:btc:usd:ts",
} as const;
