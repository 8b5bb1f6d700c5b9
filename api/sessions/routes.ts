import { Elysia } from "elysia";
import { ErrorBody } from "../../common/contracts/error.ts";
import { RecoverSession, RecoveryCodeCreated } from "../../common/contracts/recovery.ts";
import { Me, SessionCreated } from "../../common/contracts/session.ts";
import { fromCents } from "../../common/money.ts";
import { HttpError } from "../http/http-error.ts";
import { describeRoute } from "../openapi/operation.ts";
import type { RateLimiter } from "../http/rate-limiter.ts";
import type { PlayerOperations, RecoveryCodeOperations } from "../store/store.ts";
import { bearerAuth } from "./auth.ts";
import { clientAddress } from "./client-address.ts";
import type { SessionTokens } from "../../common/sessions/token.ts";

/**
 * What the session routes need.
 *
 * ```ts
 * const parts: SessionRouteParts = { tokens, players, recoveryCodes, startingBalanceCents: 100_000, sessionTtlMs: 86_400_000, sessionLimiter, recoveryLimiter };
 * ```
 */
export interface SessionRouteParts {
  /** Signs new sessions' tokens and checks them on `GET /api/me`. */
  tokens: SessionTokens;
  players: PlayerOperations;
  /** What a new guest player starts with, in cents. */
  startingBalanceCents: number;
  /** How long a new session's token is valid, ms. */
  sessionTtlMs: number;
  /** Keyed by client address: guest players are rows in the database, so their creation is bounded. */
  sessionLimiter: RateLimiter;
  recoveryCodes: RecoveryCodeOperations;
  /** Keyed by client address: every try of a recovery code takes a token, so codes cannot be guessed at speed. */
  recoveryLimiter: RateLimiter;
  now?: () => number;
}

const rateLimited = (message: string, retryAfterMs: number) =>
  new HttpError(429, "rate_limited", message, [], { "retry-after": String(Math.ceil(retryAfterMs / 1000)) });

/**
 * `POST /api/session` (a new guest player, rate limited per address),
 * `POST /api/session/recover` (a session for the player of a recovery code,
 * which is used up; rate limited per address), `GET /api/me` (the token's
 * player, balance and open exposure) and `POST /api/recovery-code` (a new
 * code for the token's player, shown this once).
 *
 * ```ts
 * new Elysia().use(sessionRoutes({ tokens, players, recoveryCodes, startingBalanceCents: 100_000, sessionTtlMs: 86_400_000, sessionLimiter, recoveryLimiter }));
 * ```
 */
export function sessionRoutes({ tokens, players, recoveryCodes, startingBalanceCents, sessionTtlMs, sessionLimiter, recoveryLimiter, now = Date.now }: SessionRouteParts) {
  return new Elysia({ name: "sessions" })
    .post(
      "/api/session",
      async ({ request, server, set }) => {
        const at = now();
        const limited = sessionLimiter.take(clientAddress(request, server), at);
        if (!limited.ok) throw rateLimited("too many new sessions from this address", limited.retryAfterMs);
        const userId = `p_${Bun.randomUUIDv7().replaceAll("-", "")}`;
        await players.create(userId, startingBalanceCents, at);
        const expiresAt = at + sessionTtlMs;
        set.status = 201;
        return { token: tokens.sign({ sub: userId, exp: expiresAt }), user_id: userId, balance: fromCents(startingBalanceCents), expires_at: expiresAt };
      },
      {
        response: { 201: SessionCreated, 429: ErrorBody },
        detail: describeRoute({
          summary: "Create a guest player",
          description: "A new guest player with the starting balance, and the bearer token that proves it. No body. Rate limited per client address.",
          tags: ["sessions"],
        }),
      },
    )
    .post(
      "/api/session/recover",
      async ({ request, server, set, body }) => {
        const at = now();
        const limited = recoveryLimiter.take(clientAddress(request, server), at);
        if (!limited.ok) throw rateLimited("too many recovery tries from this address", limited.retryAfterMs);
        const userId = await recoveryCodes.redeem(body.code);
        const balance = userId === undefined ? undefined : await players.balance(userId);
        if (userId === undefined || balance === undefined) throw new HttpError(401, "unauthorized", "unknown or already used recovery code");
        const expiresAt = at + sessionTtlMs;
        set.status = 201;
        return { token: tokens.sign({ sub: userId, exp: expiresAt }), user_id: userId, balance: fromCents(balance), expires_at: expiresAt };
      },
      {
        body: RecoverSession,
        response: { 201: SessionCreated, 401: ErrorBody, 429: ErrorBody },
        detail: describeRoute({
          summary: "Recover a player",
          description: "A new session for the player of a recovery code (case, spaces and dashes ignored); the code is used up. 401 for a wrong or used code. Rate limited per client address.",
          tags: ["sessions"],
        }),
      },
    )
    .use(bearerAuth({ tokens, now }))
    .post(
      "/api/recovery-code",
      async ({ playerId, set }) => {
        if ((await players.balance(playerId)) === undefined) throw new HttpError(401, "unauthorized", "no such player");
        const at = now();
        const code = await recoveryCodes.issue(playerId, at);
        set.status = 201;
        // Shown this once: nothing else ever reads it back.
        set.headers["cache-control"] = "no-store";
        return { code, created_at: at };
      },
      {
        response: { 201: RecoveryCodeCreated, 401: ErrorBody },
        detail: describeRoute({
          summary: "Make a recovery code",
          description: "A new recovery code for the token's player, shown this once (Cache-Control: no-store); it replaces the player's earlier code. No body.",
          tags: ["sessions"],
          bearer: true,
        }),
      },
    )
    .get(
      "/api/me",
      async ({ playerId }) => {
        const balance = await players.balance(playerId);
        if (balance === undefined) throw new HttpError(401, "unauthorized", "no such player");
        const [exposure, totals] = await Promise.all([players.exposure(playerId), players.totals(playerId)]);
        return {
          user_id: playerId,
          balance: fromCents(balance),
          open_bets: exposure.openBets,
          open_exposure: fromCents(exposure.stakedCents),
          potential_payout: fromCents(exposure.potentialPayoutCents),
          totals: {
            bets: totals.bets,
            staked: fromCents(totals.stakedCents),
            paid_out: fromCents(totals.paidOutCents),
            net: fromCents(totals.paidOutCents - totals.stakedCents),
          },
        };
      },
      {
        response: { 200: Me, 401: ErrorBody },
        detail: describeRoute({ summary: "My balance", description: "The token's player: balance, open bets, what they stake and could pay, and the totals of every bet placed.", tags: ["players"], bearer: true }),
      },
    );
}
