import { Type as t, type Static } from "@sinclair/typebox";
import { BetStatus } from "./bet.ts";

/**
 * What a player's websocket hears about their own bets: accepted (placed,
 * perhaps from another device) and settled (won, lost, void).
 *
 * ```ts
 * const won: BetEvent = { type: "bet", bet_id: "0192f0c4-7a1e-7c3d-9b2a-5d6e7f8a9b0c", status: "won", payout: 8, balance: 1005.5 };
 * ```
 */
export const BetEvent = t.Object(
  {
    type: t.Literal("bet"),
    bet_id: t.String(),
    status: t.Union([t.Literal("accepted"), BetStatus]),
    payout: t.Number(),
    balance: t.Number(),
  },
  {
    examples: [
      { type: "bet", bet_id: "0192f0c4-7a1e-7c3d-9b2a-5d6e7f8a9b0c", status: "accepted", payout: 0, balance: 997.5 },
      { type: "bet", bet_id: "0192f0c4-7a1e-7c3d-9b2a-5d6e7f8a9b0c", status: "won", payout: 8, balance: 1005.5 },
    ],
  },
);
export type BetEvent = Static<typeof BetEvent>;

/**
 * On the bus, an event carries its player so each ws process can route it.
 *
 * ```ts
 * const envelope: BetEventEnvelope = { player_id: "p_0192f0b12c3d7e4f8a9b0c1d2e3f4a5b", event: won };
 * ```
 */
export const BetEventEnvelope = t.Object({ player_id: t.String(), event: BetEvent });
export type BetEventEnvelope = Static<typeof BetEventEnvelope>;

/**
 * The most events one bus message carries (`BetEventBatch` refuses more); a
 * commit or tick that produces more sends them in further messages.
 *
 * ```ts
 * for (let i = 0; i < envelopes.length; i += MAX_BET_EVENTS_PER_MESSAGE) publish(envelopes.slice(i, i + MAX_BET_EVENTS_PER_MESSAGE));
 * ```
 */
export const MAX_BET_EVENTS_PER_MESSAGE = 500;
/**
 * What one message on the bus carries: the events one commit or one tick
 * produced, in order (1 to `MAX_BET_EVENTS_PER_MESSAGE` of them).
 *
 * ```ts
 * const batch: BetEventBatch = [envelope];
 * ```
 */
export const BetEventBatch = t.Array(BetEventEnvelope, { minItems: 1, maxItems: MAX_BET_EVENTS_PER_MESSAGE });
export type BetEventBatch = Static<typeof BetEventBatch>;
