/**
 * Credentials kept out of log lines: the user info of a URL (`redis://user:pass@host`)
 * and the services' secrets. `redactUrl` is for a URL a caller logs on purpose;
 * `createRedactor` is the logger's safety net over every line (common/log.ts).
 */

/** What stands in for a credential in a log line. */
const HIDDEN = "***";

/**
 * `url` with its user info (name and password) replaced by `***`; a URL
 * without user info is returned as it is.
 *
 * ```ts
 * redactUrl("redis://tap-api:s3cret@10.0.0.5:6379"); // "redis://***@10.0.0.5:6379"
 * redactUrl("redis://127.0.0.1:6379"); // "redis://127.0.0.1:6379"
 * ```
 */
export function redactUrl(url: string): string {
  // Up to the last "@": a password written into a URL unencoded may hold "@" or "/".
  return url.replace(/\/\/.*@/, `//${HIDDEN}@`);
}

/**
 * The password of a URL's user info, decoded, if it has one: a secret to hand to
 * `createRedactor`.
 *
 * ```ts
 * urlPassword("redis://tap-ws:s%40cret@h:6379"); // "s@cret"
 * urlPassword("redis://h:6379"); // undefined
 * ```
 */
export function urlPassword(url: string): string | undefined {
  const userinfo = /^[a-z][a-z0-9+.-]*:\/\/(.*)@/i.exec(url)?.[1];
  const colon = userinfo?.indexOf(":") ?? -1;
  if (userinfo === undefined || colon < 0 || colon === userinfo.length - 1) return undefined;
  const password = userinfo.slice(colon + 1);
  try {
    return decodeURIComponent(password);
  } catch {
    return password;
  }
}

/** `scheme://` then user info up to the last "@" of the same JSON string or word. */
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s"]*@/gi;
/** Secrets shorter than this are not looked for: a short one would blank common words. */
const MIN_SECRET_CHARS = 8;

/**
 * A function that hides, in a line of text, the user info of every URL and every
 * occurrence of `secrets` (as written, JSON-escaped and percent-encoded). A line
 * with neither is returned as it came, after a few substring checks.
 *
 * ```ts
 * const redact = createRedactor(["session-secret-0123456789abcdef"]);
 * redact('{"msg":"redis://u:p@h:6379 session-secret-0123456789abcdef"}'); // '{"msg":"redis://***@h:6379 ***"}'
 * ```
 */
export function createRedactor(secrets: readonly (string | undefined)[] = []): (line: string) => string {
  const needles = [
    ...new Set(
      secrets
        .filter((secret): secret is string => secret !== undefined && secret.length >= MIN_SECRET_CHARS)
        .flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]),
    ),
  ];
  return (line) => {
    let out = line.includes("://") ? line.replace(URL_USERINFO, `$1${HIDDEN}@`) : line;
    for (const needle of needles) if (out.includes(needle)) out = out.replaceAll(needle, HIDDEN);
    return out;
  };
}
