import type { BusTick } from "../contracts/price.ts";
import type { Logger } from "../log.ts";
import { parseBusTick } from "./parse-tick.ts";

/**
 * A tick in order, with whether it continues the one before it.
 *
 * ```ts
 * deliver({ tick: { symbol: "BTC-USD", price: 87_415.3, ts: 1_767_225_600_000, seq: 52_114 }, continuous: true, recovered: false });
 * ```
 */
export interface SequencedTick {
  tick: BusTick;
  /** False when a break lies between this tick and the previous one (ticks lost for good, a rejected one, or none before). */
  continuous: boolean;
  /** Read back from the stored history rather than heard live. */
  recovered: boolean;
}

/**
 * Whether a tick that passed its signature check is taken: `breaks` takes it after a break.
 *
 * ```ts
 * const admit = (tick: BusTick, last: BusTick | undefined, now: number): Admission =>
 *   tick.ts > now + 1000 ? { take: false, reason: "future" } : { take: true };
 * ```
 */
export type Admission = { take: true; breaks?: boolean } | { take: false; reason: string };

/**
 * What `createTickSequencer` reads from, judges with and delivers to; the
 * optional ones default to `Date.now`, `DEFAULT_FILL_TIMEOUT_MS`,
 * `DEFAULT_PAGE_SIZE` and `DEFAULT_MAX_HELD`.
 *
 * ```ts
 * const options: TickSequencerOptions = {
 *   readHistory: (after, to, limit) => ticks.history(after, to, limit),
 *   accept: (raw, at) => parseBusTick(raw, at),
 *   deliver: ({ tick }) => settle(tick),
 *   historyFrom: Date.now() - 600_000,
 *   log,
 * };
 * ```
 */
export interface TickSequencerOptions {
  /** The stored messages with `after < ts <= to`, oldest first, at most `limit` (common/prices/tick-store.ts `history`). */
  readHistory(after: number, to: number, limit: number): Promise<string[]>;
  /** Parses and authenticates one message; undefined drops it (counted as invalid). */
  accept(raw: string, receivedAt: number): BusTick | undefined;
  /** The consumer's own bounds on a tick (the API's skew and jump limits); every valid tick is taken without it. */
  admit?(tick: BusTick, last: BusTick | undefined, now: number): Admission;
  /** Called with each tick taken, in time order, exactly once. */
  deliver(tick: SequencedTick): void;
  /** Called with each tick refused by `admit`. */
  onRejected?(tick: BusTick, reason: string): void;
  /** The last tick already delivered in an earlier life (the API's stored log), so continuity holds across a restart. */
  last?: BusTick;
  /** Where reading starts when there is no `last`. */
  historyFrom: number;
  log: Logger;
  now?: () => number;
  /** How long a missing tick is looked for in the history before its stretch is given up as a break. */
  fillTimeoutMs?: number;
  /** Messages read from the history per round trip. */
  pageSize?: number;
  /** Live ticks held while the history is read; more are dropped (and read back later: they are stored). */
  maxHeld?: number;
}

/**
 * What a sequencer has counted since it was made (the API reports it as `FeedStatus`).
 *
 * ```ts
 * const { delivered, breaks } = sequencer.stats();
 * ```
 */
export interface TickSequencerStats {
  /** Ticks delivered, live and recovered. */
  delivered: number;
  /** Ticks delivered that were read back from the history (missed live). */
  recovered: number;
  /** Ticks delivered after a break. */
  breaks: number;
  /** Messages that did not parse or failed the signature check. */
  invalid: number;
  /** Ticks not newer than the last delivered one (already read back, or replayed). */
  old: number;
  /** Ticks refused by `admit`, by reason. */
  rejected: Record<string, number>;
  /** History reads that failed. */
  read_failures: number;
  /** Live ticks dropped because too many were held during a read. */
  overflow: number;
}

/** Refused ticks remembered between two taken ones; past it the memory starts again (at worst a tick is counted twice). */
const MAX_REFUSED_REMEMBERED = 1024;

/** How long a missing tick is looked for in the history before its stretch is judged a break, unless set. */
const DEFAULT_FILL_TIMEOUT_MS = 5000;
/** Messages read per history round trip, unless set. */
const DEFAULT_PAGE_SIZE = 5000;
/** Live ticks held while the history is read, unless set. */
const DEFAULT_MAX_HELD = 10_000;
/** At most one warning about invalid messages per this many ms, so a flood of them does not flood the log. */
const INVALID_WARNING_INTERVAL_MS = 1000;
/** A failed history read is retried after 100, 200, 400, 800 ms, then each second. */
const RETRY_BASE_MS = 50;
const RETRY_MAX_MS = 1000;

type Job = { kind: "live"; tick: BusTick } | { kind: "catch-up"; reason: string; done: (ok: boolean) => void };

/**
 * Turns the at-most-once price channel into a complete, ordered stream of
 * ticks, for every consumer that must not miss one (settlement, the websocket
 * bridge). The publisher numbers its ticks and stores each before anybody can
 * hear it (common/prices/tick-store.ts), so:
 *
 * - a live tick whose number is not the next one expected is held while the
 *   ticks between are read back from the stored history, and delivered after them;
 * - `catchUp()` reads everything stored after the last tick (on a timer, and
 *   at start), so a consumer that heard nothing learns whether that is true;
 * - a tick is delivered once, in time order; one not newer than the last is dropped;
 * - a tick whose predecessor cannot be read back (the history lost it) is
 *   delivered with `continuous: false`: the stretch before it is a break.
 *
 * ```ts
 * const sequencer = createTickSequencer({ readHistory, accept, deliver, historyFrom: Date.now() - 600_000, log });
 * await sequencer.catchUp("start");
 * bus.subscribe(Channels.priceTicks, (raw) => sequencer.push(raw));
 * ```
 */
export function createTickSequencer(options: TickSequencerOptions) {
  const { readHistory, accept, admit, deliver, onRejected, historyFrom, log, now = Date.now, fillTimeoutMs = DEFAULT_FILL_TIMEOUT_MS, pageSize = DEFAULT_PAGE_SIZE, maxHeld = DEFAULT_MAX_HELD } = options;
  let last = options.last;
  /** The highest number heard since `last` (taken or refused): a tick beyond it + 1 means some are missing. */
  let seenSeq = last?.seq;
  /** An unnumbered tick was refused since `last`: the next one taken follows a break (numbered ones show it by their number). */
  let refusedSinceLast = false;
  /** The times of ticks refused since `last`, so one read back again is not judged (and counted) twice. */
  const refused = new Set<number>();
  const stats: TickSequencerStats = { delivered: 0, recovered: 0, breaks: 0, invalid: 0, old: 0, rejected: {}, read_failures: 0, overflow: 0 };
  const queue: Job[] = [];
  let running = false;
  let invalidSinceWarning = 0;
  let lastInvalidWarning = Number.NEGATIVE_INFINITY;

  const warnInvalid = (raw: string, at: number) => {
    invalidSinceWarning++;
    if (at - lastInvalidWarning < INVALID_WARNING_INTERVAL_MS) return;
    log.warn({ sample: raw.slice(0, 120), dropped: invalidSinceWarning, dropped_total: stats.invalid }, "dropped a price message that is not a valid tick");
    lastInvalidWarning = at;
    invalidSinceWarning = 0;
  };

  /** Judges one valid tick, in order; never reads. */
  const take = (tick: BusTick, recovered: boolean) => {
    if ((last && tick.ts <= last.ts) || refused.has(tick.ts)) {
      stats.old++;
      return;
    }
    if (tick.seq !== undefined && (seenSeq === undefined || tick.seq > seenSeq)) seenSeq = tick.seq;
    const verdict: Admission = admit ? admit(tick, last, now()) : { take: true };
    if (!verdict.take) {
      stats.rejected[verdict.reason] = (stats.rejected[verdict.reason] ?? 0) + 1;
      if (tick.seq === undefined) refusedSinceLast = true;
      if (refused.size >= MAX_REFUSED_REMEMBERED) refused.clear();
      refused.add(tick.ts);
      log.warn({ reason: verdict.reason, ts: tick.ts, seq: tick.seq ?? null, price: tick.price, last_ts: last?.ts ?? null, last_price: last?.price ?? null }, "rejected a tick");
      onRejected?.(tick, verdict.reason);
      return;
    }
    // A refused tick of the sequence leaves its number missing, so the next one taken follows a
    // break; one from outside it (a forgery when signing is off) does not. A tick without a
    // number (taken only when signing is off) is trusted to follow the last unless one was refused.
    const numbered = tick.seq !== undefined && last?.seq !== undefined;
    const continuous = last !== undefined && !verdict.breaks && (numbered ? tick.seq === (last.seq as number) + 1 : !refusedSinceLast);
    if (!continuous) {
      stats.breaks++;
      if (last) log.warn({ from_ts: last.ts, from_seq: last.seq ?? null, to_ts: tick.ts, to_seq: tick.seq ?? null }, "a break in the ticks: the stretch between is unobserved");
    }
    last = tick;
    refusedSinceLast = false;
    refused.clear();
    stats.delivered++;
    if (recovered) stats.recovered++;
    deliver({ tick, continuous, recovered });
  };

  /** Every stored tick with `after < ts <= to`, or undefined when the history cannot be read. */
  const readAll = async (after: number, to: number): Promise<BusTick[] | undefined> => {
    const found: BusTick[] = [];
    for (let from = after; ; ) {
      const page = await readHistory(from, to, pageSize);
      const at = now();
      for (const raw of page) {
        const tick = accept(raw, at);
        if (tick) found.push(tick);
        else {
          stats.invalid++;
          warnInvalid(raw, at);
        }
      }
      // The next page starts after the last stored message, valid or not.
      const lastTs = page.length > 0 ? parseBusTick(page[page.length - 1] as string, 0)?.ts : undefined;
      if (page.length < pageSize || lastTs === undefined || lastTs <= from) return found;
      from = lastTs;
    }
  };

  /** `readAll`, retried until `fillTimeoutMs` has passed. */
  const readWithRetry = async (after: number, to: number, why: string): Promise<BusTick[] | undefined> => {
    const deadline = now() + fillTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await readAll(after, to);
      } catch (error) {
        stats.read_failures++;
        if (attempt === 1) log.warn({ err: (error as Error).message, why }, "cannot read the stored ticks; retrying");
        if (now() >= deadline) return undefined;
        await Bun.sleep(Math.min(RETRY_BASE_MS * 2 ** attempt, RETRY_MAX_MS));
      }
    }
  };

  const takeAll = (ticks: readonly BusTick[], reason: string) => {
    const before = stats.recovered;
    for (const tick of ticks) take(tick, true);
    const recovered = stats.recovered - before;
    if (recovered > 0) log.info({ ticks: recovered, reason, last_ts: last?.ts ?? null, last_seq: last?.seq ?? null }, "recovered ticks from the history");
  };

  const missesSome = (tick: BusTick) => tick.seq !== undefined && seenSeq !== undefined && tick.seq > seenSeq + 1;

  const run = async (job: Job) => {
    if (job.kind === "live") {
      const { tick } = job;
      if (missesSome(tick) && !(last && tick.ts <= last.ts)) {
        const from = last?.ts ?? historyFrom;
        const found = await readWithRetry(from, tick.ts - 1, "a missed tick");
        if (found) takeAll(found, "gap");
        else log.warn({ from_ts: from, to_ts: tick.ts, to_seq: tick.seq ?? null }, "could not read the missed ticks back in time; judging a break");
      }
      take(tick, false);
      return;
    }
    const to = now();
    const found = await readWithRetry(last?.ts ?? historyFrom, to, job.reason);
    if (found) takeAll(found, job.reason);
    job.done(found !== undefined);
  };

  const drain = async () => {
    running = true;
    try {
      for (let job = queue.shift(); job; job = queue.shift()) await run(job);
    } catch (error) {
      // Only a bug in `deliver` or `admit` lands here: say so, and keep the stream going.
      log.error({ err: (error as Error).message }, "the tick sequencer failed on a tick");
    } finally {
      running = false;
    }
    if (queue.length > 0) void drain();
  };

  const enqueue = (job: Job) => {
    queue.push(job);
    if (!running) void drain();
  };

  return {
    /** A message heard on the price channel. */
    push(raw: string): void {
      const at = now();
      const tick = accept(raw, at);
      if (!tick) {
        stats.invalid++;
        warnInvalid(raw, at);
        return;
      }
      // The common case, synchronously: nothing queued and nothing missed.
      if (!running && queue.length === 0 && !missesSome(tick)) {
        try {
          take(tick, false);
        } catch (error) {
          log.error({ err: (error as Error).message }, "the tick sequencer failed on a tick");
        }
        return;
      }
      if (queue.length >= maxHeld) {
        stats.overflow++;
        return;
      }
      enqueue({ kind: "live", tick });
    },
    /**
     * Reads every stored tick after the last one and delivers them, after any
     * live tick already queued. Resolves true when the history was read, so every
     * tick stored before the call has been delivered; false when it could not be.
     */
    catchUp(reason: string): Promise<boolean> {
      return new Promise((done) => enqueue({ kind: "catch-up", reason, done }));
    },
    /** The last tick delivered. */
    last: (): BusTick | undefined => last,
    /** A copy of the counters. */
    stats: (): TickSequencerStats => ({ ...stats, rejected: { ...stats.rejected } }),
  };
}

/**
 * A running sequencer: `push` live messages, `catchUp` on a timer, read `last` and `stats`.
 *
 * ```ts
 * const sequencer: TickSequencer = createTickSequencer(options);
 * sequencer.last()?.seq; // the number of the last tick delivered
 * ```
 */
export type TickSequencer = ReturnType<typeof createTickSequencer>;
