import type { Logger } from "../../common/log.ts";
import type { Exposure } from "../bets/exposure.ts";
import type { BetEventPublisher } from "./event-publisher.ts";
import { settledEnvelope } from "./events.ts";
import type { SettleStore } from "./settle-store.ts";
import type { Decision, OpenBet, SettlementBook } from "./settlement-book.ts";
import type { JudgedTick } from "./tick-log.ts";

/**
 * What the settler works with; `events` hears every settled bet.
 *
 * ```ts
 * const parts: SettlerParts = { book, store: createSettleStore(db), exposure, events, log };
 * ```
 */
export interface SettlerParts {
  book: SettlementBook;
  store: SettleStore;
  exposure: Pick<Exposure, "release">;
  events: BetEventPublisher;
  log: Logger;
  now?: () => number;
}

/**
 * Runs settlement in the process that owns the database's writes: every tick
 * (and a clock, for windows no tick closes) goes through the book; what it
 * decides is written in one transaction with the tick itself, the bets'
 * limits are released, and each player is told over the bus.
 *
 * ```ts
 * const settler = createSettler({ book, store, exposure, events, log });
 * settler.load(); // the open bets on disk, once
 * settler.onTick({ tick, continuous: true });
 * ```
 */
export function createSettler({ book, store, exposure, events, log, now = Date.now }: SettlerParts) {
  let settledTotal = 0;
  let loaded = false;
  const apply = (decisions: Decision[], judged?: JudgedTick) => {
    if (decisions.length === 0 && !judged) return;
    const settled = store.settle(decisions, now(), judged);
    for (const { bet } of decisions) exposure.release(bet);
    settledTotal += settled.length;
    for (const one of settled) events.push(settledEnvelope(one));
    log.debug({ settled: settled.length }, "settled bets");
  };
  return {
    /** Loads the open bets from the database: once, at start, before the history replay. */
    load(): number {
      // The book takes each bet once; a second load would add them all again.
      if (loaded) throw new Error("the settler's open bets are loaded once, at start");
      loaded = true;
      const open = store.openBets();
      for (const bet of open) book.add(bet);
      return open.length;
    },
    /** A newly placed bet joins the book. */
    add(bet: OpenBet): void {
      book.add(bet);
    },
    /** A judged tick from the feed: stored with what it decides. */
    onTick(judged: JudgedTick): void {
      apply(book.onTick(judged.tick.ts, Math.round(judged.tick.price * 100), judged.continuous), judged);
    },
    /**
     * A tick already stored (read back at start): fed to the book to rebuild what
     * it knew (which windows went unobserved); anything it decides is written,
     * which the store makes a no-op for bets already settled.
     */
    replay(judged: JudgedTick): void {
      apply(book.onTick(judged.tick.ts, Math.round(judged.tick.price * 100), judged.continuous));
    },
    /** Decides windows no tick closed; call it only once every tick stored up to `at` has been fed. */
    onClock(at: number = now()): void {
      apply(book.onClock(at));
    },
    /** True when the clock has windows to look at (see `onClock`). */
    hasDue: (at: number) => book.hasDue(at),
    stats: () => ({ open_bets: book.openBets, settled: settledTotal, ticks_ignored: book.ignoredTicks }),
  };
}

/**
 * The settler (see `createSettler`).
 *
 * ```ts
 * const settler: Settler = createSettler({ book, store, exposure, events, log });
 * ```
 */
export type Settler = ReturnType<typeof createSettler>;
