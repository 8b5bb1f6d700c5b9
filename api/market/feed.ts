import type { Bus } from "../../common/bus/mod.ts";
import { Channels } from "../../common/channels.ts";
import type { BusTick } from "../../common/contracts/price.ts";
import type { Logger } from "../../common/log.ts";
import { parseBusTick } from "../../common/prices/parse-tick.ts";
import { createTickSequencer, type SequencedTick, type TickSequencerStats } from "../../common/prices/tick-sequencer.ts";
import type { TickSigner } from "../../common/prices/tick-signature.ts";
import type { TickStore } from "../../common/prices/tick-store.ts";
import { admitTick, type TickBounds } from "./tick-bounds.ts";

/**
 * What `startMarketFeed` reads from, checks with and delivers to.
 *
 * ```ts
 * const options: MarketFeedOptions = { bus, history: ticks, bounds, historyFrom: Date.now() - 600_000, onTick, log };
 * ```
 */
export interface MarketFeedOptions {
  bus: Bus;
  /** The stored tick history, read back for what the channel missed. */
  history: Pick<TickStore, "history">;
  /** With a key, a tick without a valid signature is dropped, live or stored. */
  signer?: TickSigner;
  bounds: TickBounds;
  /** The last tick judged before this process started (the stored log), if any. */
  last?: BusTick;
  /** Where the history is read from when there is no `last`. */
  historyFrom: number;
  /** Every tick taken, in time order, once, with whether it continues the one before. */
  onTick(tick: SequencedTick): void;
  /** A tick refused by the bounds: the price is in doubt until the next one taken. */
  onRejected?(tick: BusTick, reason: string): void;
  log: Logger;
  now?: () => number;
}

/**
 * The feed's counters, for `/readyz` and the logs.
 *
 * ```ts
 * const stats: MarketFeedStats = feed.stats();
 * stats.last_tick_age_ms; // 180, or null before the first tick
 * ```
 */
export interface MarketFeedStats extends TickSequencerStats {
  /** Age of the last tick taken, ms; null before the first. */
  last_tick_age_ms: number | null;
  last_seq: number | null;
  subscribed: boolean;
}

/**
 * The API's view of the price: every tick on the price channel, checked
 * (signature, then `bounds`), in order and complete (common/prices/tick-sequencer.ts
 * reads back from the stored history what the channel missed). At start it
 * first reads the history after the last judged tick, so windows that closed
 * while the API was down are decided on the ticks of that time; Redis may be
 * down then, and both the read and the subscription are retried.
 *
 * ```ts
 * const feed = startMarketFeed({ bus, history: ticks, bounds, historyFrom: Date.now() - 600_000, onTick: ({ tick }) => market.observe(tick), log });
 * await feed.ready;
 * await feed.stop();
 * ```
 */
export function startMarketFeed({ bus, history, signer, bounds, last, historyFrom, onTick, onRejected, log, now = Date.now }: MarketFeedOptions) {
  const accept = (raw: string, receivedAt: number) => {
    const tick = parseBusTick(raw, receivedAt);
    return tick && (!signer || signer.verify(tick)) ? tick : undefined;
  };
  const sequencer = createTickSequencer({
    readHistory: (after, to, limit) => history.history(after, to, limit),
    accept,
    admit: (tick, previous, at) => admitTick(tick, previous, at, bounds),
    deliver: onTick,
    ...(onRejected ? { onRejected } : {}),
    ...(last ? { last } : {}),
    historyFrom,
    log,
    now,
  });
  let stopped = false;
  let unsubscribe: (() => Promise<void>) | undefined;

  const ready = (async () => {
    while (!stopped && !(await sequencer.catchUp("start"))) await Bun.sleep(1000);
    // What was published while the subscriber was away is read back at once, not at the next tick.
    bus.onReconnect(() => void sequencer.catchUp("reconnect"));
    while (!stopped && !unsubscribe) {
      try {
        unsubscribe = await bus.subscribe(Channels.priceTicks, (raw) => sequencer.push(raw));
        log.info({ channel: Channels.priceTicks, last_seq: sequencer.last()?.seq ?? null }, "subscribed to prices");
      } catch (error) {
        log.warn({ err: (error as Error).message }, "cannot subscribe to prices yet; retrying");
        await Bun.sleep(1000);
      }
    }
  })();

  return {
    /** Resolves once the stored history is read and live ticks flow. */
    ready,
    /** Reads what the history holds after the last tick; true when every tick stored until now has been taken. */
    catchUp: (reason: string) => sequencer.catchUp(reason),
    /** What the feed has taken, refused and dropped so far, and how old its last tick is. */
    stats(): MarketFeedStats {
      const latest = sequencer.last();
      return { ...sequencer.stats(), last_tick_age_ms: latest ? now() - latest.ts : null, last_seq: latest?.seq ?? null, subscribed: unsubscribe !== undefined };
    },
    /** Stops retrying and unsubscribes; no tick is delivered after it resolves. */
    async stop() {
      stopped = true;
      await unsubscribe?.();
    },
  };
}
