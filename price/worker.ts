import type { BusTick } from "../common/contracts/price.ts";
import type { Logger } from "../common/log.ts";
import type { TickStore } from "../common/prices/tick-store.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { PriceSource } from "./sources/mod.ts";

/**
 * What `startPriceWorker` samples, where it stores and publishes, and how often.
 *
 * ```ts
 * const options: PriceWorkerOptions = { source, ticks, sign: signer.sign, intervalMs: 1000, log, isConnected: () => redis.status === "ready" };
 * ```
 */
export interface PriceWorkerOptions {
  /** Where each tick's price comes from. */
  source: PriceSource;
  /** Where each tick is stored (latest price and history) and published, in one transaction. */
  ticks: Pick<TickStore, "publish">;
  /** Signs each tick (its symbol, seq, ts and price); without it ticks go out unsigned. */
  sign?: (tick: BusTick) => string;
  /**
   * The first tick's number: the stored newest tick's plus one, so a restart
   * continues the sequence. Without one (nothing stored) the numbering starts
   * at the first tick's time in ms: a run publishes at most one tick per 10 ms,
   * so a fresh start never lands on the next number of an earlier run.
   */
  firstSeq?: number;
  /** One tick per interval, on the wall-clock grid (multiples of `intervalMs`). */
  intervalMs: number;
  log: Logger;
  clock?: Clock;
  /** How often an info summary is logged (per-tick lines are debug); `DEFAULT_SUMMARY_MS` unless set. */
  summaryMs?: number;
  /**
   * False while ticks cannot be delivered (Redis down): those ticks are skipped,
   * not queued, so an outage costs no memory and no burst of stale ticks after.
   */
  isConnected?: () => boolean;
  /** Sees each tick once it is stored and published (recording); must not throw. */
  onPublished?: (tick: BusTick) => void;
}

/**
 * Why a grid slot passed without a tick: the previous tick was still being
 * written, Redis was away, the event loop woke after the slot, or the source had no price.
 *
 * ```ts
 * worker.stats().skipped["no-price"]; // slots without a quorum of venues, say
 * ```
 */
export type SkipReason = "busy" | "disconnected" | "late" | "no-price";

/**
 * What a worker has counted since it started, and the last tick it made.
 *
 * ```ts
 * const { published, failed, last } = worker.stats();
 * ```
 */
export interface PriceWorkerStats {
  /** Ticks sampled and sent to the store. */
  ticks: number;
  /** Ticks stored and published. */
  published: number;
  /** Ticks whose transaction failed (their numbers are used up all the same). */
  failed: number;
  /** Slots that passed without a tick, by reason. */
  skipped: Record<SkipReason, number>;
  /** The last tick sampled, published or not. */
  last?: BusTick;
}

/**
 * A running tick loop (`startPriceWorker`).
 *
 * ```ts
 * const worker: PriceWorker = startPriceWorker(options);
 * await worker.stop();
 * ```
 */
export interface PriceWorker {
  /** Counts since start. */
  stats(): PriceWorkerStats;
  /** Stops the loop and waits for the tick in flight, if any. */
  stop(): Promise<void>;
}

/** The info summary's period unless `summaryMs` is set: a line a minute. */
const DEFAULT_SUMMARY_MS = 60_000;

/**
 * Starts the tick loop: at every multiple of `intervalMs` it samples `source`,
 * numbers and signs the tick, and stores and publishes its JSON on
 * `prices:btc:usd` in one transaction. A tick's `ts` is its grid time, so ticks
 * are evenly spaced and never share a time. A number is used up by every tick
 * sent, whether or not its transaction is known to have run: a consumer then
 * sees at worst a number it cannot read back (a break), never two ticks with one.
 *
 * Timing: the timer is re-aimed at the next grid point after each slot, so ticks
 * do not drift. At most one tick is in flight: a slot that comes while the
 * previous tick is still being written, while disconnected, or that a stalled
 * event loop let pass, is skipped (and counted), never queued.
 *
 * ```ts
 * const worker = startPriceWorker({ source, ticks, intervalMs: 1000, log });
 * await worker.stop();
 * ```
 */
export function startPriceWorker(options: PriceWorkerOptions): PriceWorker {
  const { source, ticks, sign, firstSeq, intervalMs, log, clock = systemClock, summaryMs = DEFAULT_SUMMARY_MS, isConnected = () => true, onPublished } = options;
  if (!(Number.isInteger(intervalMs) && intervalMs > 0)) throw new RangeError(`intervalMs must be a positive integer, got ${intervalMs}`);

  let nextSeq = firstSeq;
  const stats: PriceWorkerStats = {
    ticks: 0,
    published: 0,
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
    const seq = nextSeq ?? ts;
    nextSeq = seq + 1;
    const tick: BusTick = { symbol: "BTC-USD", price, ts, seq, source: source.kind, ...source.describe?.() };
    if (sign) tick.sig = sign(tick);
    stats.ticks++;
    window.ticks++;
    stats.last = tick;
    window.low = Math.min(window.low, price);
    window.high = Math.max(window.high, price);
    log.debug({ price, ts, seq }, "tick");
    try {
      await attempt(() => ticks.publish(tick));
      stats.published++;
      onPublished?.(tick);
    } catch (error) {
      log.warn({ ts, seq, err: errorMessage(error) }, "tick not published");
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
  log.info({ source: source.kind, intervalMs, first_seq: firstSeq ?? null, signed: sign !== undefined }, "price worker started");

  return {
    stats: () => structuredClone(stats),
    async stop() {
      if (stopped) return;
      stopped = true;
      cancelTimer();
      await inFlight;
      log.info({ ticks: stats.ticks, published: stats.published, failed: stats.failed, skipped: stats.skipped }, "price worker stopped");
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
