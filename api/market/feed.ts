import type { Bus } from "../../common/bus/mod.ts";
import { Channels } from "../../common/channels.ts";
import type { Tick } from "../../common/contracts/price.ts";
import type { Logger } from "../../common/log.ts";
import { parseTickMessage } from "../../common/prices/parse-tick.ts";
import type { TickStore } from "../../common/prices/tick-store.ts";
import { withTimeout } from "../../common/timeout.ts";

export type TickListener = (tick: Tick) => void;

export interface MarketFeedOptions {
  bus: Bus;
  ticks: TickStore;
  /** Called with every tick in time order: the stored history first, then live ones. */
  listeners: TickListener[];
  log: Logger;
  /** Where the history starts (ms since the epoch), e.g. before the oldest open bet's window. */
  historyFrom: number;
  now?: () => number;
}

/**
 * Keeps the API's view of the market current: first the stored history from
 * `historyFrom` (so volatility is known and settlement catches up after a
 * restart), then every tick on the price channel. Live ticks that arrive
 * while the history is read wait, so listeners see one ordered stream.
 * Redis may be down at start: subscribing is retried in the background.
 */
export function startMarketFeed({ bus, ticks, listeners, log, historyFrom, now = Date.now }: MarketFeedOptions) {
  let dropped = 0;
  let stopped = false;
  let unsubscribe: (() => Promise<void>) | undefined;
  let held: Tick[] | undefined = [];
  const deliver = (tick: Tick) => {
    for (const listener of listeners) listener(tick);
  };
  const onMessage = (raw: string) => {
    const tick = parseTickMessage(raw, now());
    if (!tick) {
      if (++dropped % 100 === 1) log.warn({ dropped, sample: raw.slice(0, 80) }, "dropped a malformed price message");
      return;
    }
    if (held) held.push(tick);
    else deliver(tick);
  };

  const replayHistory = async () => {
    const to = now();
    let count = 0;
    try {
      // Read in pages: an outage can leave many ticks to catch up on.
      for (let from = historyFrom; from <= to; ) {
        const page = await withTimeout(ticks.range(from, to, 5000), 5000, "reading the price history");
        for (const tick of page) deliver(tick);
        count += page.length;
        const last = page.at(-1);
        if (page.length < 5000 || !last) break;
        from = last.ts + 1;
      }
      log.info({ ticks: count, from: historyFrom }, "replayed the price history");
    } catch (error) {
      log.warn({ err: (error as Error).message }, "could not read the price history; going on with live ticks");
    }
    const waiting = held ?? [];
    held = undefined;
    for (const tick of waiting) deliver(tick);
  };

  const ready = (async () => {
    while (!stopped && !unsubscribe) {
      try {
        unsubscribe = await bus.subscribe(Channels.priceTicks, onMessage);
        log.info({ channel: Channels.priceTicks }, "subscribed to prices");
      } catch (error) {
        log.warn({ err: (error as Error).message }, "cannot subscribe to prices yet; retrying");
        await Bun.sleep(1000);
      }
    }
    if (!stopped) await replayHistory();
  })();

  return {
    /** Resolves once the history is replayed and live ticks flow. */
    ready,
    async stop() {
      stopped = true;
      await unsubscribe?.();
    },
  };
}
