import type { BetEventEnvelope } from "../../common/contracts/bet-event.ts";
import { fromCents } from "../../common/money.ts";
import type { BetRow } from "../bets/bet-store.ts";
import type { OpenBet } from "./settlement-book.ts";

/** The columns of a stored bet that the settlement book needs. */
export type OpenBetRow = Pick<BetRow, "id" | "player_id" | "t_start" | "t_end" | "price_low_cents" | "price_high_cents" | "stake_cents" | "multiplier_centi">;

/** A stored bet as the settlement book holds it. */
export function openBetOf(bet: OpenBetRow): OpenBet {
  return {
    id: bet.id,
    playerId: bet.player_id,
    tStart: bet.t_start,
    tEnd: bet.t_end,
    lowCents: bet.price_low_cents,
    highCents: bet.price_high_cents,
    stakeCents: bet.stake_cents,
    multiplierCenti: bet.multiplier_centi,
  };
}

/** The event telling a player (on every device) that a bet was accepted. */
export function acceptedEnvelope(bet: BetRow): BetEventEnvelope {
  return {
    player_id: bet.player_id,
    event: { type: "bet", bet_id: bet.id, status: "accepted", payout: 0, balance: fromCents(bet.balance_after_cents) },
  };
}
