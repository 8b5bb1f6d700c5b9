import { Elysia } from "elysia";
import { ErrorBody } from "../../common/contracts/error.ts";
import { Me, SessionCreated } from "../../common/contracts/session.ts";
import { fromCents } from "../../common/money.ts";
import { HttpError } from "../http/http-error.ts";
import type { RateLimiter } from "../http/rate-limiter.ts";
import type { PlayerStore } from "../players/player-store.ts";
import { bearerAuth } from "./auth.ts";
import { clientAddress } from "./client-address.ts";
import type { SessionTokens } from "../../common/sessions/token.ts";

/**
 * What the session routes need.
 *
 * ```ts
 * const parts: SessionRouteParts = { tokens, players, startingBalanceCents: 100_000, sessionTtlMs: 86_400_000, sessionLimiter };
 * ```
 */
export interface SessionRouteParts {
  /** Signs new sessions' tokens and checks them on `GET /api/me`. */
  tokens: SessionTokens;
  players: PlayerStore;
  /** What a new guest player starts with, in cents. */
  startingBalanceCents: number;
  /** How long a new session's token is valid, ms. */
  sessionTtlMs: number;
  /** Keyed by client address: guest players are rows in the database, so their creation is bounded. */
  sessionLimiter: RateLimiter;
  now?: () => number;
}

/**
 * `POST /api/session` (a new guest player, rate limited per address) and
 * `GET /api/me` (the token's player, balance and open exposure).
 *
 * ```ts
 * new Elysia().use(sessionRoutes({ tokens, players, startingBalanceCents: 100_000, sessionTtlMs: 86_400_000, sessionLimiter }));
 * ```
 */
export function sessionRoutes({ tokens, players, startingBalanceCents, sessionTtlMs, sessionLimiter, now = Date.now }: SessionRouteParts) {
  return new Elysia({ name: "sessions" })
    .post(
      "/api/session",
      ({ request, server, set }) => {
        const at = now();
        const limited = sessionLimiter.take(clientAddress(request, server), at);
        if (!limited.ok) {
          throw new HttpError(429, "rate_limited", "too many new sessions from this address", [], {
            "retry-after": String(Math.ceil(limited.retryAfterMs / 1000)),
          });
        }
        const userId = `p_${Bun.randomUUIDv7().replaceAll("-", "")}`;
        players.create(userId, startingBalanceCents, at);
        const expiresAt = at + sessionTtlMs;
        set.status = 201;
        return { token: tokens.sign({ sub: userId, exp: expiresAt }), user_id: userId, balance: fromCents(startingBalanceCents), expires_at: expiresAt };
      },
      { response: { 201: SessionCreated, 429: ErrorBody } },
    )
    .use(bearerAuth({ tokens, now }))
    .get(
      "/api/me",
      ({ playerId }) => {
        const balance = players.balance(playerId);
        if (balance === undefined) throw new HttpError(401, "unauthorized", "no such player");
        const exposure = players.exposure(playerId);
        return {
          user_id: playerId,
          balance: fromCents(balance),
          open_bets: exposure.openBets,
          open_exposure: fromCents(exposure.stakedCents),
          potential_payout: fromCents(exposure.potentialPayoutCents),
        };
      },
      { response: { 200: Me, 401: ErrorBody } },
    );
}
