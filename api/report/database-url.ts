import { ConfigError } from "../../common/config.ts";
import { urlPassword } from "../../common/redact.ts";
import { databaseUrlOf } from "../../common/store/postgres.ts";

/**
 * `DATABASE_URL` as the API reads it (api/config.ts): a PostgreSQL URL, or
 * undefined when unset or empty (the store is SQLite then). A bad one is a
 * `ConfigError` naming the variable and never showing the value: it may hold a
 * password.
 *
 * ```ts
 * commandDatabaseUrl({ DATABASE_URL: "postgres://tap@127.0.0.1/tap" }); // "postgres://tap@127.0.0.1/tap"
 * commandDatabaseUrl({}); // undefined
 * ```
 */
export function commandDatabaseUrl(env: Record<string, string | undefined>): string | undefined {
  try {
    return databaseUrlOf(env);
  } catch (error) {
    throw new ConfigError("DATABASE_URL", "(not shown: it may hold a password)", (error as Error).message);
  }
}

/**
 * `text` (an error message, a line of a tool's output) with the password of
 * `url` hidden wherever it appears, as written, percent-encoded or decoded, and
 * the user info of any URL in it; short passwords too, unlike the logger's
 * redactor, since this text is about this one URL.
 *
 * ```ts
 * hideUrlPassword('password "pw" refused for postgres://tap:pw@db/tap', "postgres://tap:pw@db/tap"); // 'password "***" refused for postgres://***@db/tap'
 * ```
 */
export function hideUrlPassword(text: string, url: string): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s"']*@/gi, "$1***@");
  const password = urlPassword(url);
  if (password === undefined) return out;
  const raw = /^[a-z][a-z0-9+.-]*:\/\/[^:/]*:(.*)@/i.exec(url)?.[1];
  for (const needle of new Set([raw, password, encodeURIComponent(password)])) {
    if (needle) out = out.replaceAll(needle, "***");
  }
  return out;
}

