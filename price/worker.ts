import type { Bus } from "../common/bus/mod.ts";
import { Channels } from "../common/channels.ts";
import type { Tick } from "../common/contracts/price.ts";
import type { Logger } from "../common/log.ts";
import type { TickStore } from "../common/prices/tick-store.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { PriceSource } from "./sources/mod.ts";

export interface PriceWorkerOptions {
  source: PriceSource;
  /** Where each tick is published; any `Bus` will do (price never subscribes). */
  bus: Pick<Bus, "publish">;
  /** Where each tick is kept for late readers (latest price and history). */
  ticks: TickStore;
  /** One tick per interval, on the wall-clock grid (multiples of `intervalMs`). */
  intervalMs: number;
  log: Logger;
  clock?: Clock;
  /** How often an info summary is logged (per-tick lines are debug). */
  summaryMs?: number;
  /**
   * False while ticks cannot be delivered (Redis down): those ticks are skipped,
   * not queued, so an outage costs no memory and no burst of stale ticks after.
   */
  isConnected?: () => boolean;
}

/** Why a grid slot passed without a tick. */
export type SkipReason = "busy" | "disconnected" | "late" | "no-price";

export interface PriceWorkerStats {
  /** Ticks sampled and sent to the bus and the store. */
  ticks: number;
  published: number;
  recorded: number;
  /** Ticks whose publish or record failed. */
  failed: number;
  skipped: Record<SkipReason, number>;
  last?: Tick;
}

export interface PriceWorker {
  /** Counts since start. */
  stats(): PriceWorkerStats;
  /** Stops the loop and waits for the tick in flight, if any. */
  stop(): Promise<void>;
}

/**
 * Starts the tick loop: at every multiple of `intervalMs` it samples `source`,
 * records the tick in `ticks` and publishes its JSON on `prices:btc:usd`. A tick's
 * `ts` is its grid time, so ticks are evenly spaced and never share a time.
 *
 * Timing: the timer is re-aimed at the next grid point after each slot, so ticks
 * do not drift. At most one tick is in flight: a slot that comes while the
 * previous tick is still being written, while disconnected, or that a stalled
 * event loop let pass, is skipped (and counted), never queued.
 *
 * ```ts
 * const worker = startPriceWorker({ source, bus, ticks, intervalMs: 1000, log });
 * await worker.stop();
 * ```
 */
export function startPriceWorker(options: PriceWorkerOptions): PriceWorker {
  const { source, bus, ticks, intervalMs, log, clock = systemClock, summaryMs = 60_000, isConnected = () => true } = options;
  if (!(Number.isInteger(intervalMs) && intervalMs > 0)) throw new RangeError(`intervalMs must be a positive integer, got ${intervalMs}`);

  const stats: PriceWorkerStats = {
    ticks: 0,
    published: 0,
    recorded: 0,
    failed: 0,
    skipped: { busy: 0, disconnected: 0, late: 0, "no-price": 0 },
  };
  let window = newWindow();
  let lastSummaryAt = clock.now();
  let streak: { reason: SkipReason; count: number } | undefined;
  let inFlight: Promise<void> | undefined;
  let cancelTimer = () => {};
  let stopped = false;

  const skip = (reason: SkipReason, count = 1) => {
    stats.skipped[reason] += count;
    window.skipped += count;
    if (streak?.reason === reason) {
      streak.count += count;
      return;
    }
    log.warn({ reason, count }, "skipping ticks");
    streak = { reason, count };
  };

  const endStreak = () => {
    if (!streak) return;
    log.info({ reason: streak.reason, skipped: streak.count }, "ticks resumed");
    streak = undefined;
  };

  const runTick = async (ts: number) => {
    let price: number | undefined;
    try {
      price = await source.sample();
    } catch (error) {
      log.warn({ err: errorMessage(error), source: source.kind }, "price source failed");
    }
    if (price === undefined) return skip("no-price");
    endStreak();
    const tick: Tick = { symbol: "BTC-USD", price, ts };
    stats.ticks++;
    window.ticks++;
    stats.last = tick;
    window.low = Math.min(window.low, price);
    window.high = Math.max(window.high, price);
    log.debug({ price, ts }, "tick");
    // Recorded first: on a shared connection the history write then reaches Redis
    // before the PUBLISH, so a reader woken by the message finds the tick stored.
    const [recorded, published] = await Promise.allSettled([
      attempt(() => ticks.record(tick)),
      attempt(() => bus.publish(Channels.priceTicks, JSON.stringify(tick))),
    ]);
    if (recorded.status === "fulfilled") stats.recorded++;
    else log.warn({ ts, err: errorMessage(recorded.reason) }, "tick not recorded");
    if (published.status === "fulfilled") stats.published++;
    else log.warn({ ts, err: errorMessage(published.reason) }, "tick not published");
    if (recorded.status === "rejected" || published.status === "rejected") {
      stats.failed++;
      window.failed++;
    }
  };

  const onSlot = (slot: number) => {
    if (stopped) return;
    const now = clock.now();
    if (now < slot) return aim(slot); // a timer that fired early
    // The latest grid point: later than `slot` only when the event loop stalled.
    const ts = slot + Math.floor((now - slot) / intervalMs) * intervalMs;
    if (ts > slot) skip("late", (ts - slot) / intervalMs);
    // The summary covers the slots before this one.
    if (ts - lastSummaryAt >= summaryMs) {
      logSummary();
      lastSummaryAt = ts;
    }
    if (inFlight) skip("busy");
    else if (!isConnected()) skip("disconnected");
    else {
      inFlight = runTick(ts)
        .catch((error) => log.error({ err: errorMessage(error) }, "tick crashed"))
        .finally(() => {
          inFlight = undefined;
        });
    }
    aim(ts + intervalMs);
  };

  const aim = (slot: number) => {
    cancelTimer = clock.setTimer(() => onSlot(slot), Math.max(0, slot - clock.now()));
  };

  const logSummary = () => {
    const { ticks: count, failed, skipped, low, high } = window;
    log.info(
      { ticks: count, failed, skipped, price: stats.last?.price ?? null, low: count ? low : null, high: count ? high : null, windowMs: summaryMs },
      "price summary",
    );
    window = newWindow();
  };

  aim((Math.floor(clock.now() / intervalMs) + 1) * intervalMs);
  log.info({ source: source.kind, intervalMs }, "price worker started");

  return {
    stats: () => structuredClone(stats),
    async stop() {
      if (stopped) return;
      stopped = true;
      cancelTimer();
      await inFlight;
      log.info({ ticks: stats.ticks, published: stats.published, recorded: stats.recorded, failed: stats.failed, skipped: stats.skipped }, "price worker stopped");
    },
  };
}

function newWindow() {
  return { ticks: 0, failed: 0, skipped: 0, low: Number.POSITIVE_INFINITY, high: Number.NEGATIVE_INFINITY };
}

/** Runs `fn` so that a synchronous throw becomes a rejection. */
async function attempt(fn: () => Promise<unknown>): Promise<void> {
  await fn();
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
