import type { Bus } from "../../common/bus/mod.ts";
import type { Logger } from "../../common/log.ts";
import type { BetRow } from "../bets/bet-store.ts";
import type { Exposure } from "../bets/exposure.ts";
import { createBetEventPublisher } from "../settlement/event-publisher.ts";
import { acceptedBetCounter } from "./accepted-metrics.ts";
import { acceptedEnvelope } from "../settlement/events.ts";
import { startJudging } from "../settlement/judging.ts";
import { type BetSource, readBetsFirst } from "../settlement/read-bets-first.ts";
import type { SettlementStore } from "../settlement/settle-store.ts";
import { type BookOptions, createSettlementBook } from "../settlement/settlement-book.ts";
import { createSettler } from "../settlement/settler.ts";
import type { JudgingFeed } from "./bet-lifecycle.ts";

/**
 * What a node of several, on a shared store, is built from.
 *
 * ```ts
 * const parts: SharedLifecycleParts = { store: settlement, source: reader, bus, log, settlement: { staleMs, graceMs, timeoutMs }, lockMs: 2000, onWriteFailed };
 * ```
 */
export interface SharedLifecycleParts {
  store: SettlementStore;
  /** The bets every node stored (api/store/pg-open-bets.ts). */
  source: BetSource;
  bus: Bus;
  log: Logger;
  settlement: BookOptions;
  lockMs: number;
  onWriteFailed: (error: unknown) => void;
  now?: () => number;
}

/** Placement holds nothing in memory here: the database holds the caps for every node (api/store/pg-exposure.ts). */
const NO_LIMITS_IN_MEMORY: Pick<Exposure, "reserve" | "release"> = { reserve: () => ({ ok: true }), release: () => {} };

/**
 * A bet from acceptance to settlement when several api nodes share one
 * PostgreSQL store. Every node places bets (the database enforces the caps
 * and tells the players they were accepted); one node at a time, the holder
 * of the settler lease, settles: `startSettling` builds its book from the
 * store's open bets, keeps reading the new ones every node stores, and judges
 * ticks only once the book holds every bet they concern (`readBetsFirst`).
 *
 * ```ts
 * const lifecycle = createSharedBetLifecycle({ store, source, bus, log, settlement, lockMs, onWriteFailed });
 * const placement = createBetPlacement({ grid, exposure: lifecycle.exposure, bets, commits, limiter, minStakeCents, maxStakeCents, onPlaced: lifecycle.placed });
 * // once this node holds the settler lease:
 * const { openBets, judging } = await lifecycle.startSettling({ market, history: ticks, bounds, onWriteFailed });
 * ```
 */
export function createSharedBetLifecycle({ store, source, bus, log, settlement, lockMs, onWriteFailed, now = Date.now }: SharedLifecycleParts) {
  const events = createBetEventPublisher({ bus, log });
  const countAccepted = acceptedBetCounter();
  let settler: ReturnType<typeof readBetsFirst> | undefined;
  return {
    exposure: NO_LIMITS_IN_MEMORY,
    /** A newly stored bet: its player is told; the settler reads it from the store. */
    placed(bet: BetRow): void {
      countAccepted(bet);
      events.push(acceptedEnvelope(bet));
    },
    /** Starts settling on this node (it holds the lease): the book from the store, the stored ticks, then the feed. */
    async startSettling(feed: JudgingFeed) {
      if (settler) throw new Error("this node already settles");
      const inner = createSettler({ book: createSettlementBook(settlement), store, exposure: NO_LIMITS_IN_MEMORY, events, log, now, onWriteFailed });
      settler = readBetsFirst(inner, { source, lockMs, log, onFailed: onWriteFailed });
      const openBets = await settler.load();
      const judging = await startJudging({ ...feed, store, settler, bus, logger: log, now });
      settler.start();
      const reading = settler;
      return {
        openBets,
        judging: {
          feed: judging.feed,
          async stop() {
            await reading.stop();
            await judging.stop();
          },
        },
      };
    },
    /** Resolves once every settlement write begun so far is done. */
    settled: () => settler?.settled() ?? Promise.resolve(),
  };
}
