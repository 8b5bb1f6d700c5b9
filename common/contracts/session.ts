import { Type as t, type Static } from "@sinclair/typebox";

/** `POST /api/session`: a new guest player with a demo balance, and the bearer token that proves it. */
export const SessionCreated = t.Object({
  token: t.String(),
  user_id: t.String(),
  balance: t.Number(),
  expires_at: t.Integer({ description: "ms since the epoch" }),
});
export type SessionCreated = Static<typeof SessionCreated>;

/** `GET /api/me`. */
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
