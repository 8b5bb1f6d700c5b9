import type { Bus } from "../../common/bus/mod.ts";
import type { Logger } from "../../common/log.ts";
import type { TickSigner } from "../../common/prices/tick-signature.ts";
import type { TickStore } from "../../common/prices/tick-store.ts";
import { startMarketFeed } from "../market/feed.ts";
import type { Market } from "../market/market.ts";
import type { TickBounds } from "../market/tick-bounds.ts";
import type { SettlementStore } from "./settle-store.ts";
import type { Settler } from "./settler.ts";

/**
 * What judging feeds and from where; `onWriteFailed` decides what a failed write does to the process.
 *
 * ```ts
 * const options: JudgingOptions = { store, settler, market, bus, history: ticks, bounds, logger: log, onWriteFailed: () => process.exit(1) };
 * ```
 */
export interface JudgingOptions {
  /** The ticks already judged (the `ticks` table), and where the open bets begin. */
  store: Pick<SettlementStore, "ticks" | "oldestOpenStart">;
  settler: Pick<Settler, "onTick" | "replay" | "onClock" | "hasDue" | "settled">;
  market: Pick<Market, "observe" | "doubt">;
  bus: Bus;
  history: Pick<TickStore, "history">;
  signer?: TickSigner;
  bounds: TickBounds;
  logger: Logger;
  /**
   * Called when a judged tick could not be written (SQLite failed): the book has
   * moved on without the database, so the process must stop and rebuild both
   * from the database at its next start (api/main.ts exits; systemd restarts it).
   */
  onWriteFailed(error: unknown): void;
  /** How often the clock looks for windows that no tick closed. */
  clockMs?: number;
  now?: () => number;
}

/** How far back the market's volatility is rebuilt at start. */
export const WARM_UP_MS = 10 * 60 * 1000;

/** How often, by default, the clock looks for windows no tick closed: well inside the settle grace. */
const SETTLE_CLOCK_MS = 500;

/**
 * Feeds settlement and the market, from start to stop:
 *
 * 1. the ticks already judged (the stored log), from before the oldest open
 *    window, rebuild what the settlement book knew (which windows went
 *    unobserved) and the market's volatility;
 * 2. the price feed then continues after the last judged tick: what Redis
 *    stored while the API was down first, then live ticks (api/market/feed.ts);
 * 3. a clock, for windows no tick closed: it reads the stored history first,
 *    so it never decides on ticks it merely missed.
 *
 * ```ts
 * const judging = await startJudging({ store: settleStore, settler, market, bus, history: ticks, bounds, logger, onWriteFailed });
 * await judging.stop();
 * ```
 */
export async function startJudging({ store, settler, market, bus, history, signer, bounds, logger, onWriteFailed, clockMs = SETTLE_CLOCK_MS, now = Date.now }: JudgingOptions) {
  const started = now();
  const replayFrom = Math.min(started - WARM_UP_MS, ((await store.oldestOpenStart()) ?? started) - bounds.staleMs);
  const judged = await store.ticks.range(replayFrom, Number.MAX_SAFE_INTEGER);
  for (const tick of judged) {
    market.observe(tick.tick);
    settler.replay(tick);
  }
  // The replay's writes (an asynchronous store's) are done before the feed goes on from the last judged tick.
  await settler.settled();
  const last = (await store.ticks.last())?.tick;
  logger.info({ replayed: judged.length, from: replayFrom, last_ts: last?.ts ?? null, last_seq: last?.seq ?? null }, "rebuilt settlement from the judged ticks");

  const feed = startMarketFeed({
    bus,
    history,
    ...(signer ? { signer } : {}),
    bounds,
    ...(last ? { last } : {}),
    historyFrom: started - WARM_UP_MS,
    onTick({ tick, continuous }) {
      market.observe(tick);
      try {
        settler.onTick({ tick, continuous });
      } catch (error) {
        onWriteFailed(error);
      }
    },
    onRejected: () => market.doubt(),
    log: logger,
    now,
  });

  let ticking = false;
  const clock = setInterval(async () => {
    const at = now();
    if (ticking || !settler.hasDue(at)) return;
    ticking = true;
    try {
      // Only once every tick stored until `at` has been judged: a silent channel proves nothing.
      if (await feed.catchUp("clock")) settler.onClock(at);
    } catch (error) {
      onWriteFailed(error);
    } finally {
      ticking = false;
    }
  }, clockMs);

  return {
    feed,
    async stop() {
      clearInterval(clock);
      await feed.stop();
    },
  };
}
