/** A caller's id is kept only when it is short and plain, so it is safe to log and echo. */
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request id for an answer: the `X-Request-ID` given by the caller (or
 * nginx) when it is sane, else a new time-ordered one. The API and ws follow
 * this one rule.
 *
 * ```ts
 * requestIdFor("trace-abc.123"); // "trace-abc.123"
 * requestIdFor("bad id");        // a new UUIDv7
 * requestIdFor(null);            // a new UUIDv7
 * ```
 */
export function requestIdFor(header: string | null): string {
  return header !== null && SANE_ID.test(header) ? header : Bun.randomUUIDv7();
}
