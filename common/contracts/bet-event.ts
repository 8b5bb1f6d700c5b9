import { Type as t, type Static } from "@sinclair/typebox";
import { BetStatus } from "./bet.ts";

/**
 * What a player's websocket hears about their own bets: accepted (placed,
 * perhaps from another device) and settled (won, lost, void).
 */
export const BetEvent = t.Object({
  type: t.Literal("bet"),
  bet_id: t.String(),
  status: t.Union([t.Literal("accepted"), BetStatus]),
  payout: t.Number(),
  balance: t.Number(),
});
export type BetEvent = Static<typeof BetEvent>;

/** On the bus, an event carries its player so each ws process can route it. */
export const BetEventEnvelope = t.Object({ player_id: t.String(), event: BetEvent });
export type BetEventEnvelope = Static<typeof BetEventEnvelope>;

/**
 * What one message on the bus carries: the events one commit or one tick
 * produced, in order (at most `MAX_BET_EVENTS_PER_MESSAGE`; more go in further messages).
 */
export const MAX_BET_EVENTS_PER_MESSAGE = 500;
export const BetEventBatch = t.Array(BetEventEnvelope, { minItems: 1, maxItems: MAX_BET_EVENTS_PER_MESSAGE });
export type BetEventBatch = Static<typeof BetEventBatch>;
