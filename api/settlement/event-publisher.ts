import type { Bus } from "../../common/bus/mod.ts";
import { Channels } from "../../common/channels.ts";
import { type BetEventEnvelope, MAX_BET_EVENTS_PER_MESSAGE } from "../../common/contracts/bet-event.ts";
import type { Logger } from "../../common/log.ts";

/**
 * Where bet events go: the bus in the API, a recording array in tests.
 *
 * ```ts
 * const pushed: BetEventEnvelope[] = [];
 * const events: BetEventPublisher = { push: (envelope) => pushed.push(envelope) };
 * ```
 */
export interface BetEventPublisher {
  /** Queues one player's event; it is published with the others of the same job, in order. */
  push(envelope: BetEventEnvelope): void;
}

/**
 * Publishes bet events in batches: every event pushed during one job (a
 * group commit's bets, a tick's settlements) goes out when the job ends, as
 * few bus messages as `MAX_BET_EVENTS_PER_MESSAGE` allows. A window closing on
 * 8,000 bets is then 16 PUBLISHes, not 8,000.
 *
 * ```ts
 * const events = createBetEventPublisher({ bus, log });
 * events.push({ player_id: "p1", event: { type: "bet", bet_id: "b1", status: "won", payout: 2.5, balance: 12.5 } });
 * ```
 */
export function createBetEventPublisher({
  bus,
  log,
  schedule = queueMicrotask,
}: {
  bus: Pick<Bus, "publish">;
  log: Logger;
  /** When the job's events go out: at the end of the current job (a microtask). */
  schedule?: (flush: () => void) => void;
}): BetEventPublisher {
  let queued: BetEventEnvelope[] = [];

  const flush = () => {
    const events = queued;
    queued = [];
    for (let from = 0; from < events.length; from += MAX_BET_EVENTS_PER_MESSAGE) {
      const batch = events.slice(from, from + MAX_BET_EVENTS_PER_MESSAGE);
      bus.publish(Channels.betEvents, JSON.stringify(batch)).catch((error: Error) =>
        log.warn({ err: error.message, events: batch.length, first_bet_id: batch[0]!.event.bet_id }, "could not publish bet events"),
      );
    }
  };

  return {
    push(envelope) {
      if (queued.length === 0) schedule(flush);
      queued.push(envelope);
    },
  };
}
