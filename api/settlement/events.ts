import type { BetEventEnvelope } from "../../common/contracts/bet-event.ts";
import { fromCents } from "../../common/money.ts";
import type { BetRow } from "../bets/bet-store.ts";
import type { Settled } from "./settle-store.ts";

/**
 * The event telling a player (on every device) that a bet was accepted.
 *
 * ```ts
 * events.push(acceptedEnvelope(bet)); // { player_id, event: { type: "bet", bet_id, status: "accepted", payout: 0, balance } }
 * ```
 */
export function acceptedEnvelope(bet: Pick<BetRow, "id" | "player_id" | "balance_after_cents">): BetEventEnvelope {
  return {
    player_id: bet.player_id,
    event: { type: "bet", bet_id: bet.id, status: "accepted", payout: 0, balance: fromCents(bet.balance_after_cents) },
  };
}

/**
 * The event telling a player that a bet was settled: its outcome, what it paid
 * and the balance after it.
 *
 * ```ts
 * for (const one of store.settle(decisions, now)) events.push(settledEnvelope(one));
 * ```
 */
export function settledEnvelope(settled: Settled): BetEventEnvelope {
  return {
    player_id: settled.playerId,
    event: { type: "bet", bet_id: settled.betId, status: settled.outcome, payout: fromCents(settled.payoutCents), balance: fromCents(settled.balanceCents) },
  };
}
