import { readFileSync, statSync } from "node:fs";
import { ConfigError } from "../config.ts";

/**
 * The HMAC secret for session tokens: `SESSION_SECRET`, or the first line of
 * the file named by `SESSION_SECRET_FILE`, which must not be readable by
 * others (mode 0600 or stricter). There is no default: a missing secret is a
 * start-up error.
 *
 * ```ts
 * const tokens = createSessionTokens(readSessionSecret(process.env));
 * ```
 */
export function readSessionSecret(env: Record<string, string | undefined>): string {
  const inline = env.SESSION_SECRET?.trim();
  const file = env.SESSION_SECRET_FILE?.trim();
  if (inline && file) throw new ConfigError("SESSION_SECRET_FILE", file, "set SESSION_SECRET or SESSION_SECRET_FILE, not both");
  let secret = inline;
  if (file) {
    let mode: number;
    try {
      mode = statSync(file).mode;
      secret = readFileSync(file, "utf8").split("\n", 1)[0]?.trim();
    } catch (error) {
      throw new ConfigError("SESSION_SECRET_FILE", file, `cannot be read: ${(error as Error).message}`);
    }
    if ((mode & 0o077) !== 0) throw new ConfigError("SESSION_SECRET_FILE", file, `must not be readable by group or others (mode ${(mode & 0o777).toString(8)}; use 0600)`);
  }
  if (!secret) throw new ConfigError("SESSION_SECRET", undefined, "is required (or SESSION_SECRET_FILE): the key that signs session tokens");
  if (Buffer.byteLength(secret) < 32) throw new ConfigError(file ? "SESSION_SECRET_FILE" : "SESSION_SECRET", file ?? "***", "must be at least 32 bytes");
  return secret;
}
