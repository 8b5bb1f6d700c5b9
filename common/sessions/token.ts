import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * What a session token proves: who the player is, until when.
 *
 * ```ts
 * const claims: SessionClaims = { sub: "p_123", exp: Date.now() + 86_400_000 };
 * ```
 */
export interface SessionClaims {
  /** The player's id. */
  sub: string;
  /** Expiry, ms since the epoch. */
  exp: number;
}

const SUB = /^[A-Za-z0-9_-]{1,64}$/;
const TOKEN = /^([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$/;

/**
 * The bytes of a base64url part, only when the part is their one canonical
 * spelling: the decoder ignores a last character's unused low bits, so
 * without this check one token would have several spellings.
 */
const canonicalBytes = (part: string): Buffer | undefined => {
  const bytes = Buffer.from(part, "base64url");
  return bytes.toString("base64url") === part ? bytes : undefined;
};

/**
 * Signs and checks bearer tokens: `base64url(claims JSON).base64url(HMAC-SHA256)`.
 * Stateless, so any API process holding the secret can check a token.
 *
 * ```ts
 * const tokens = createSessionTokens(secret);
 * const token = tokens.sign({ sub: "p_123", exp: Date.now() + 86_400_000 });
 * tokens.verify(token, Date.now()); // { sub: "p_123", exp: … }
 * ```
 */
export function createSessionTokens(secret: Uint8Array | string) {
  if ((typeof secret === "string" ? Buffer.byteLength(secret) : secret.byteLength) < 32) {
    throw new RangeError("session secret must be at least 32 bytes");
  }
  const mac = (payload: string) => createHmac("sha256", secret).update(payload).digest();
  return {
    sign(claims: SessionClaims): string {
      if (!SUB.test(claims.sub) || !Number.isSafeInteger(claims.exp)) throw new RangeError("invalid claims");
      const payload = Buffer.from(JSON.stringify({ sub: claims.sub, exp: claims.exp })).toString("base64url");
      return `${payload}.${mac(payload).toString("base64url")}`;
    },
    /** The claims of a well-formed, authentic, unexpired token; undefined otherwise. */
    verify(token: string, now: number): SessionClaims | undefined {
      const parts = TOKEN.exec(token);
      if (!parts) return undefined;
      const [, payload, signature] = parts as unknown as [string, string, string];
      const given = canonicalBytes(signature);
      const expected = mac(payload);
      if (given === undefined || given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      const body = canonicalBytes(payload);
      if (body === undefined) return undefined;
      let claims: unknown;
      try {
        claims = JSON.parse(body.toString("utf8"));
      } catch {
        return undefined;
      }
      if (typeof claims !== "object" || claims === null) return undefined;
      const { sub, exp } = claims as Record<string, unknown>;
      if (typeof sub !== "string" || !SUB.test(sub) || typeof exp !== "number" || !Number.isSafeInteger(exp)) return undefined;
      return exp > now ? { sub, exp } : undefined;
    },
  };
}

/**
 * The signer and checker `createSessionTokens` makes, as passed to the routes that need it.
 *
 * ```ts
 * const playerOf = (tokens: SessionTokens, bearer: string) => tokens.verify(bearer, Date.now())?.sub;
 * ```
 */
export type SessionTokens = ReturnType<typeof createSessionTokens>;
