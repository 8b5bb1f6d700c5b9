import { Elysia } from "elysia";
import { HttpError } from "../http/http-error.ts";
import type { SessionClaims, SessionTokens } from "../../common/sessions/token.ts";

/** How many verified tokens are remembered, so a busy player's token is checked by HMAC once, not per request. */
const VERIFIED_CACHE = 10_000;

const unauthorized = (message: string) =>
  new HttpError(401, "unauthorized", message, [], { "www-authenticate": 'Bearer realm="tap-trading"' });

/**
 * Reads `Authorization: Bearer <token>` into `playerId`, or answers 401. The
 * player always comes from the token, never from the request body.
 */
export function bearerAuth({ tokens, now = Date.now }: { tokens: SessionTokens; now?: () => number }) {
  const verified = new Map<string, SessionClaims>();
  const check = (token: string): SessionClaims | undefined => {
    const at = now();
    const known = verified.get(token);
    if (known) return known.exp > at ? known : undefined;
    const claims = tokens.verify(token, at);
    if (claims) {
      if (verified.size >= VERIFIED_CACHE) verified.delete(verified.keys().next().value as string);
      verified.set(token, claims);
    }
    return claims;
  };
  return new Elysia({ name: "bearer-auth" }).derive({ as: "scoped" }, ({ request }) => {
    const header = request.headers.get("authorization");
    if (!header) throw unauthorized("missing Authorization: Bearer token");
    const match = /^Bearer ([^\s]{1,512})$/i.exec(header);
    const claims = match ? check(match[1]!) : undefined;
    if (!claims) throw unauthorized("invalid or expired session token");
    return { playerId: claims.sub };
  });
}
