import type { Database } from "bun:sqlite";
import { createHmac, timingSafeEqual } from "node:crypto";

/** Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand survives. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** 20 symbols of 5 bits: 100 bits of randomness. */
const CODE_SYMBOLS = 20;
const GROUP = 4;

/**
 * A new random recovery code: 20 symbols of Crockford base32 (100 bits), in
 * groups of four.
 *
 * ```ts
 * newRecoveryCode(); // "7K3M-Q9XA-2B8D-W4TZ-H6NP"
 * ```
 */
export function newRecoveryCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(CODE_SYMBOLS));
  // 256 is a multiple of 32: the low five bits of a random byte are uniform.
  const symbols = Array.from(bytes, (b) => ALPHABET[b & 31]!).join("");
  return symbols.match(new RegExp(`.{${GROUP}}`, "g"))!.join("-");
}

/**
 * A code as typed back to the symbols that count: case, spaces and dashes are
 * ignored, and the letters Crockford's alphabet leaves out read as the digits
 * they look like.
 *
 * ```ts
 * normalizeRecoveryCode(" 7k3m-q9xa 2b8d-w4tz-h6np"); // "7K3MQ9XA2B8DW4TZH6NP"
 * ```
 */
export function normalizeRecoveryCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, "").replace(/O/g, "0").replace(/[IL]/g, "1");
}

/**
 * Recovery codes kept as HMAC-SHA256 under the server's session secret: the
 * database alone neither shows a code nor lets one be guessed offline. Each
 * player has at most one; a new one replaces it; redeeming one deletes it.
 *
 * ```ts
 * const codes = createRecoveryCodes(db, { secret });
 * const code = codes.issue("p1", Date.now());
 * codes.redeem(code); // "p1"
 * codes.redeem(code); // undefined: used
 * ```
 */
export function createRecoveryCodes(db: Database, { secret }: { secret: string }) {
  // A key of its own, so a recovery hash is never also a valid session-token signature.
  const key = createHmac("sha256", secret).update("tap-trading recovery codes").digest();
  const hash = (code: string) => createHmac("sha256", key).update(normalizeRecoveryCode(code)).digest("hex");
  const upsert = db.prepare(
    "INSERT INTO recovery_codes (player_id, code_hash, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (player_id) DO UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at",
  );
  const take = db.prepare("DELETE FROM recovery_codes WHERE code_hash = ?1 RETURNING player_id, code_hash");
  return {
    /** A new code for `playerId`, replacing any earlier one; only its hash is stored. */
    issue(playerId: string, now: number): string {
      const code = newRecoveryCode();
      upsert.run(playerId, hash(code), now);
      return code;
    },
    /** The code's player, once: the code is deleted in the same statement. Undefined for an unknown or used code. */
    redeem(code: string): string | undefined {
      const wanted = hash(code);
      // The lookup is by a keyed hash the caller cannot steer; the stored one is compared in constant time all the same.
      const row = take.get(wanted) as { player_id: string; code_hash: string } | null;
      if (!row || !timingSafeEqual(Buffer.from(row.code_hash), Buffer.from(wanted))) return undefined;
      return row.player_id;
    },
  };
}

/**
 * The recovery-code store (see `createRecoveryCodes`).
 *
 * ```ts
 * const codes: RecoveryCodes = createRecoveryCodes(db, { secret });
 * ```
 */
export type RecoveryCodes = ReturnType<typeof createRecoveryCodes>;
