import type { Bus } from "../../common/bus/mod.ts";
import type { Logger } from "../../common/log.ts";
import type { BetRow } from "../bets/bet-store.ts";
import { createExposure, type Exposure, type ExposureLimits } from "../bets/exposure.ts";
import { createBetEventPublisher } from "../settlement/event-publisher.ts";
import { acceptedBetCounter } from "./accepted-metrics.ts";
import { acceptedEnvelope } from "../settlement/events.ts";
import { type JudgingOptions, startJudging } from "../settlement/judging.ts";
import { openBetOf, type SettlementStore } from "../settlement/settle-store.ts";
import { type BookOptions, createSettlementBook } from "../settlement/settlement-book.ts";
import { createSettler, SETTLE_WRITE_CHUNK } from "../settlement/settler.ts";

/**
 * What the lifecycle is built from; everything else it makes itself.
 *
 * ```ts
 * const parts: BetLifecycleParts = { store: createSettleStore(db), bus, log, limits: { maxOpenBets: 100, maxCellLiabilityCents: 5_000_000, maxHouseLiabilityCents: 100_000_000 }, settlement: { staleMs: 5000, graceMs: 2000, timeoutMs: 60_000 } };
 * ```
 */
export interface BetLifecycleParts {
  /** Settlement's writes and reads: SQLite's `createSettleStore(db)`, or the PostgreSQL store's. */
  store: SettlementStore;
  /** Where the players' bet events go (`Channels.betEvents`). */
  bus: Bus;
  log: Logger;
  limits: ExposureLimits;
  settlement: BookOptions;
  now?: () => number;
  /** A settlement write failed (an asynchronous store's failure arrives here; see `SettlerParts`). */
  onWriteFailed?: (error: unknown) => void;
}

/** What `load` found: the open bets now holding limits, and those in the settlement book. */
interface Loaded {
  openBets: number;
  settling: number;
}

/**
 * What judging needs beyond the lifecycle's own parts: the market, the tick history and the rules for ticks.
 *
 * ```ts
 * const feed: JudgingFeed = { market, history: ticks, bounds, onWriteFailed: () => process.exit(1) };
 * ```
 */
export type JudgingFeed = Omit<JudgingOptions, "store" | "settler" | "bus" | "logger" | "now">;


/**
 * A bet from acceptance to settlement, in the process that owns the writes:
 * the limits a bet holds while it is open (`exposure`, for placement), a
 * stored bet entering the settlement book and its player told (`placed`),
 * and the judging of ticks that settles it, tells its player and gives its
 * share of the limits back (`startJudging`).
 *
 * ```ts
 * const lifecycle = createBetLifecycle({ store: createSettleStore(db), bus, log, limits: config, settlement: { staleMs, graceMs, timeoutMs }, onWriteFailed });
 * const { openBets } = await lifecycle.load();
 * const placement = createBetPlacement({ grid, exposure: lifecycle.exposure, bets, commits, limiter, minStakeCents, maxStakeCents, onPlaced: lifecycle.placed });
 * const judging = lifecycle.startJudging({ market, history: ticks, bounds, onWriteFailed });
 * ```
 */
export function createBetLifecycle({ store, bus, log, limits, settlement, now = Date.now, onWriteFailed }: BetLifecycleParts) {
  const exposure = createExposure(limits);
  const events = createBetEventPublisher({ bus, log });
  const settler = createSettler({
    book: createSettlementBook(settlement),
    store,
    exposure,
    events,
    log,
    now,
    writeChunk: SETTLE_WRITE_CHUNK,
    ...(onWriteFailed ? { onWriteFailed } : {}),
  });
  // Placement only reserves and gives back; loading is the lifecycle's.
  const limitsHeld: Pick<Exposure, "reserve" | "release"> = exposure;
  const countAccepted = acceptedBetCounter();

  return {
    /** The limits open bets hold: placement reserves a bet's share, settlement gives it back. */
    exposure: limitsHeld,
    /** Loads the open bets from the database into the limits and the settlement book: once, at start. */
    load(): Loaded | Promise<Loaded> {
      const open = store.openBets();
      const settling = settler.load();
      if (open instanceof Promise || settling instanceof Promise) {
        return Promise.all([open, settling]).then(([bets, n]) => ({ openBets: exposure.loadOpen(bets), settling: n }));
      }
      return { openBets: exposure.loadOpen(open), settling };
    },
    /** Resolves once every settlement write begun so far is done. */
    settled: () => settler.settled(),
    /** A newly stored bet: it joins the settlement book and its player is told it was accepted. */
    placed(bet: BetRow): void {
      countAccepted(bet);
      settler.add(openBetOf(bet));
      events.push(acceptedEnvelope(bet));
    },
    /** Starts judging ticks (after `load`): the stored ones first, then the feed, and the clock for windows no tick closes. */
    startJudging(feed: JudgingFeed): ReturnType<typeof startJudging> {
      return startJudging({ ...feed, store, settler, bus, logger: log, now });
    },
  };
}
