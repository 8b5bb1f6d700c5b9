import { Type as t, type Static } from "@sinclair/typebox";

/**
 * `POST /api/session`: a new guest player with a demo balance, and the bearer token that proves it.
 *
 * ```ts
 * const created: SessionCreated = { token: "eyJzdWIiOiJwXzEyMyJ9.…", user_id: "p_123", balance: 1000, expires_at: 1_767_312_000_000 };
 * ```
 */
export const SessionCreated = t.Object({
  token: t.String(),
  user_id: t.String(),
  balance: t.Number(),
  expires_at: t.Integer({ description: "ms since the epoch" }),
});
export type SessionCreated = Static<typeof SessionCreated>;

/**
 * `GET /api/me`: the player's balance and what their open bets stake and could pay.
 *
 * ```ts
 * const me: Me = { user_id: "p_123", balance: 997.5, open_bets: 1, open_exposure: 2.5, potential_payout: 8 };
 * ```
 */
export const Me = t.Object({
  user_id: t.String(),
  balance: t.Number(),
  open_bets: t.Integer(),
  /** The stakes of the player's open bets. */
  open_exposure: t.Number(),
  /** What the open bets would pay if all won. */
  potential_payout: t.Number(),
});
export type Me = Static<typeof Me>;
