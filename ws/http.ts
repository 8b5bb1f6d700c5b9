import type { ErrorBody, ErrorCode } from "../common/contracts/error.ts";

const JSON_HEADERS = { "content-type": "application/json" };

/** A small JSON response (health, metrics). */
export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

/** A caller's id is kept only when it is short and plain, so it is safe to log and echo. */
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The shared error contract (`common/contracts/error.ts`) as a response. */
export function errorResponse(request: Request, status: number, code: ErrorCode, message: string): Response {
  const header = request.headers.get("x-request-id");
  const requestId = header !== null && SANE_ID.test(header) ? header : Bun.randomUUIDv7();
  const body: ErrorBody = { error: { code, message, details: [], request_id: requestId } };
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, "x-request-id": requestId } });
}
