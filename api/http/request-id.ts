/** A caller's id is kept only when it is short and plain, so it is safe to log and echo. */
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The `X-Request-ID` given by the caller (or Nginx) when sane, else a new time-ordered one. */
export function requestIdFor(header: string | null): string {
  return header !== null && SANE_ID.test(header) ? header : Bun.randomUUIDv7();
}
