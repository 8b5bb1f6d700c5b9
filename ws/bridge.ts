import type { Bus, Unsubscribe } from "../common/bus/mod.ts";
import { Channels } from "../common/channels.ts";
import type { PriceMessage, Tick } from "../common/contracts/price.ts";
import type { WsTopic } from "../common/contracts/ws.ts";
import type { Logger } from "../common/log.ts";
import { parseTickMessage } from "../common/prices/parse-tick.ts";

/** Sends one already serialised message to every socket subscribed to `topic` (`server.publish`). */
export type PublishToTopic = (topic: WsTopic, message: string) => unknown;

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
    publish("prices", priceMessage(tick));
  };

  const unsubscribe: Unsubscribe = await bus.subscribe(Channels.priceTicks, onMessage);
  log.debug({ channel: Channels.priceTicks, topic: "prices" }, "price bridge subscribed");
  return {
    latest: () => latest,
    stats: () => ({ ticks_published: published, ticks_dropped: dropped }),
    stop: unsubscribe,
  };
}
