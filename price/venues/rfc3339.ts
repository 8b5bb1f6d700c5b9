/**
 * A venue's RFC 3339 UTC timestamp (`2022-12-25T09:30:59.123456Z`, any number
 * of fraction digits) as ms since the epoch; undefined for anything else, so a
 * stray value never becomes a time. Coinbase and Kraken v2 stamp in this form.
 *
 * ```ts
 * rfc3339Ms("2014-11-07T08:19:28.464459Z"); // 1415348368464
 * rfc3339Ms("yesterday"); // undefined
 * ```
 */
export function rfc3339Ms(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$/.exec(value);
  if (!match) return undefined;
  // Milliseconds only: the engines disagree on more than three fraction digits.
  const ms = Date.parse(`${match[1]}${(match[2] ?? "").slice(0, 4)}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}
