import { Elysia } from "elysia";
import { HttpError } from "../http/http-error.ts";
import type { SessionClaims, SessionTokens } from "../../common/sessions/token.ts";

/**
 * How many verified tokens one `bearerAuth` remembers, so a busy player's token
 * is checked by HMAC once, not per request; past it the oldest is forgotten.
 *
 * ```ts
 * VERIFIED_CACHE_SIZE; // 10_000
 * ```
 */
export const VERIFIED_CACHE_SIZE = 10_000;

/** A longer Authorization value is refused before any HMAC work; a real token is well under it. */
const MAX_TOKEN_CHARS = 512;
const BEARER = new RegExp(`^Bearer ([^\\s]{1,${MAX_TOKEN_CHARS}})$`, "i");

const unauthorized = (message: string) =>
  new HttpError(401, "unauthorized", message, [], { "www-authenticate": 'Bearer realm="tap-trading"' });

/**
 * Reads `Authorization: Bearer <token>` into `playerId`, or answers 401. The
 * player always comes from the token, never from the request body. A token
 * once verified is remembered, and still refused from its expiry on.
 *
 * ```ts
 * new Elysia()
 *   .use(bearerAuth({ tokens: createSessionTokens(secret) }))
 *   .get("/api/me", ({ playerId }) => ({ user_id: playerId }));
 * ```
 */
export function bearerAuth({ tokens, now = Date.now }: { tokens: SessionTokens; now?: () => number }) {
  const verified = new Map<string, SessionClaims>();
  const check = (token: string): SessionClaims | undefined => {
    const at = now();
    const known = verified.get(token);
    if (known) return known.exp > at ? known : undefined;
    const claims = tokens.verify(token, at);
    if (claims) {
      if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value as string);
      verified.set(token, claims);
    }
    return claims;
  };
  return new Elysia({ name: "bearer-auth" }).derive({ as: "scoped" }, ({ request }) => {
    const header = request.headers.get("authorization");
    if (!header) throw unauthorized("missing Authorization: Bearer token");
    const match = BEARER.exec(header);
    const claims = match ? check(match[1]!) : undefined;
    if (!claims) throw unauthorized("invalid or expired session token");
    return { playerId: claims.sub };
  });
}
