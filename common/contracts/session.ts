import { Type as t, type Static } from "@sinclair/typebox";

/**
 * `POST /api/session`: a new guest player with a demo balance, and the bearer token that proves it.
 *
 * ```ts
 * const created: SessionCreated = { token: "eyJzdWIiOiJwXzEyMyJ9.…", user_id: "p_123", balance: 1000, expires_at: 1_767_312_000_000 };
 * ```
 */
export const SessionCreated = t.Object(
  {
    token: t.String(),
    user_id: t.String(),
    balance: t.Number(),
    expires_at: t.Integer({ description: "ms since the epoch" }),
  },
  { examples: [{ token: "eyJzdWIiOiJwXzEyMyIsImV4cCI6MTc2NzMxMjAwMDAwMH0.c2lnbmF0dXJl", user_id: "p_0192f0b12c3d7e4f8a9b0c1d2e3f4a5b", balance: 1000, expires_at: 1_767_312_000_000 }] },
);
export type SessionCreated = Static<typeof SessionCreated>;

/**
 * `GET /api/me`: the player's balance, what their open bets stake and could pay, and the totals of every bet they placed.
 *
 * ```ts
 * const me: Me = { user_id: "p_123", balance: 997.5, open_bets: 1, open_exposure: 2.5, potential_payout: 8, totals: { bets: 3, staked: 7.5, paid_out: 5, net: -2.5 } };
 * ```
 */
export const Me = t.Object(
  {
    user_id: t.String(),
    balance: t.Number(),
    open_bets: t.Integer(),
    /** The stakes of the player's open bets. */
    open_exposure: t.Number({ description: "the stakes of the player's open bets" }),
    /** What the open bets would pay if all won. */
    potential_payout: t.Number({ description: "what the open bets would pay if all won" }),
    /** Every bet the player placed, open ones too: their stakes, what they paid back (payouts and refunds), and the net. */
    totals: t.Object(
      {
        bets: t.Integer({ minimum: 0 }),
        staked: t.Number({ minimum: 0 }),
        paid_out: t.Number({ minimum: 0, description: "payouts of won bets and refunds of void ones" }),
        net: t.Number({ description: "paid_out − staked" }),
      },
      { description: "every bet the player placed, open ones too" },
    ),
  },
  { examples: [{ user_id: "p_0192f0b12c3d7e4f8a9b0c1d2e3f4a5b", balance: 997.5, open_bets: 1, open_exposure: 2.5, potential_payout: 8, totals: { bets: 3, staked: 7.5, paid_out: 5, net: -2.5 } }] },
);
export type Me = Static<typeof Me>;
