import type { Bus, Unsubscribe } from "../common/bus/mod.ts";
import { Channels } from "../common/channels.ts";
import type { PriceMessage, Tick } from "../common/contracts/price.ts";
import type { WsTopic } from "../common/contracts/ws.ts";
import type { Logger } from "../common/log.ts";
import { parseTickMessage } from "../common/prices/parse-tick.ts";

/**
 * Sends one already serialised message to every socket subscribed to `topic`
 * (`server.publish`). A price carries its tick's time as `order`, so a client
 * sent that tick as its snapshot is not sent it again.
 */
export type PublishToTopic = (topic: WsTopic | `player:${string}`, message: string, order?: number) => unknown;

export interface PriceBridgeOptions {
  bus: Bus;
  publish: PublishToTopic;
  log: Logger;
  /** Stamps plain "42012.34" ticks, which carry no time of their own. */
  now?: () => number;
  /** At most one warning per this many ms for dropped messages, so a bad publisher cannot flood the log. */
  warnEveryMs?: number;
}

export interface PriceBridgeStats {
  /** Ticks published to the `prices` topic. */
  ticks_published: number;
  /** Messages on the price channel that were not a tick. */
  ticks_dropped: number;
}

export interface PriceBridge {
  /** The newest tick seen on the channel since start. */
  latest(): Tick | undefined;
  stats(): PriceBridgeStats;
  stop(): Promise<void>;
}

/** The websocket message for a tick; its `ts` is the tick's own time. */
export function priceMessage(tick: Tick): string {
  const message: PriceMessage = { type: "price", symbol: tick.symbol, price: tick.price, ts: tick.ts };
  return JSON.stringify(message);
}

/**
 * The one place where bus messages become websocket messages: each tick on
 * `prices:btc:usd` is serialised once and published once to the `prices`
 * topic, whatever the number of clients. Anything that is not a tick is
 * dropped, counted and warned about; it never throws.
 *
 * ```ts
 * const bridge = await startPriceBridge({ bus, publish: (topic, m) => server.publish(topic, m), log });
 * ```
 */
export async function startPriceBridge({ bus, publish, log, now = Date.now, warnEveryMs = 1000 }: PriceBridgeOptions): Promise<PriceBridge> {
  let latest: Tick | undefined;
  let published = 0;
  let dropped = 0;
  let droppedSinceWarning = 0;
  let lastWarningAt = Number.NEGATIVE_INFINITY;

  const onMessage = (raw: string) => {
    const receivedAt = now();
    const tick = parseTickMessage(raw, receivedAt);
    if (!tick) {
      dropped++;
      droppedSinceWarning++;
      if (receivedAt - lastWarningAt >= warnEveryMs) {
        log.warn(
          { channel: Channels.priceTicks, sample: raw.slice(0, 120), dropped: droppedSinceWarning, dropped_total: dropped },
          "dropped a message that is not a tick",
        );
        lastWarningAt = receivedAt;
        droppedSinceWarning = 0;
      }
      return;
    }
    latest = tick;
    published++;
    publish("prices", priceMessage(tick), tick.ts);
  };

  const unsubscribe: Unsubscribe = await bus.subscribe(Channels.priceTicks, onMessage);
  log.debug({ channel: Channels.priceTicks, topic: "prices" }, "price bridge subscribed");
  return {
    latest: () => latest,
    stats: () => ({ ticks_published: published, ticks_dropped: dropped }),
    stop: unsubscribe,
  };
}

export interface GridBridge {
  /** The latest grid as a ready-to-send websocket message. */
  latestMessage(): string | undefined;
  stats(): { grids_published: number; grids_dropped: number };
  stop(): Promise<void>;
}

/**
 * Relays the priced grid from the API (`grid:btc:usd`) to the `grid` topic,
 * wrapped as `{"type":"grid","grid":…}` once per grid. A message that is not
 * a grid object is dropped and counted.
 */
export async function startGridBridge({ bus, publish, log }: Pick<PriceBridgeOptions, "bus" | "publish" | "log">): Promise<GridBridge> {
  let latest: string | undefined;
  let published = 0;
  let dropped = 0;
  const unsubscribe = await bus.subscribe(Channels.grid, (raw) => {
    let grid: unknown;
    try {
      grid = JSON.parse(raw);
    } catch {
      grid = undefined;
    }
    if (typeof grid !== "object" || grid === null || !Array.isArray((grid as { cells?: unknown }).cells)) {
      if (dropped++ % 100 === 0) log.warn({ channel: Channels.grid, sample: raw.slice(0, 120), dropped }, "dropped a message that is not a grid");
      return;
    }
    // The API serialised it; wrapping the text avoids serialising it again.
    latest = `{"type":"grid","grid":${raw}}`;
    published++;
    publish("grid", latest);
  });
  return {
    latestMessage: () => latest,
    stats: () => ({ grids_published: published, grids_dropped: dropped }),
    stop: unsubscribe,
  };
}

/** The topic a player's authenticated connections are subscribed to. */
export const playerTopic = (playerId: string) => `player:${playerId}` as const;

/**
 * Relays per-player bet events from the API (`bets:events`, a batch of
 * envelopes per message; a lone envelope is taken too) to the player's own
 * connections on this process: one publish per event to `player:<id>`, so no
 * other player hears it. Malformed envelopes are dropped and counted; the
 * rest of their batch still goes out.
 */
export async function startBetEventBridge({ bus, publish, log }: Pick<PriceBridgeOptions, "bus" | "publish" | "log">) {
  let relayed = 0;
  let dropped = 0;
  const drop = (raw: string, count = 1) => {
    if (dropped % 100 === 0) log.warn({ channel: Channels.betEvents, sample: raw.slice(0, 120), dropped: dropped + count }, "dropped a malformed bet event");
    dropped += count;
  };
  const relay = (envelope: unknown, raw: string) => {
    const { player_id: playerId, event } = (envelope ?? {}) as { player_id?: unknown; event?: unknown };
    if (typeof playerId !== "string" || typeof event !== "object" || event === null || (event as { type?: unknown }).type !== "bet") {
      drop(raw);
      return;
    }
    relayed++;
    publish(playerTopic(playerId), JSON.stringify(event));
  };
  const unsubscribe = await bus.subscribe(Channels.betEvents, (raw) => {
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      drop(raw);
      return;
    }
    if (!Array.isArray(message)) relay(message, raw);
    else if (message.length === 0) drop(raw);
    else for (const envelope of message) relay(envelope, raw);
  });
  return {
    stats: () => ({ bet_events_relayed: relayed, bet_events_dropped: dropped }),
    stop: unsubscribe,
  };
}
