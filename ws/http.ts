import type { ErrorCode } from "../common/contracts/error.ts";
import { errorResponse } from "../common/http/error-response.ts";
import { requestIdFor } from "../common/request-id.ts";

const JSON_HEADERS = { "content-type": "application/json" };

/**
 * A small JSON response (health, metrics).
 *
 * ```ts
 * jsonResponse({ status: "ok", component: "ws" }); // 200, application/json
 * ```
 */
export function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

/**
 * The error contract for `request`, its request id taken from the request's
 * `x-request-id` when sane (the API's rule, `common/request-id.ts`).
 *
 * ```ts
 * errorAnswer(request, 404, "not_found", `no route for GET /nope`);
 * ```
 */
export function errorAnswer(request: Request, status: number, code: ErrorCode, message: string, headers?: Record<string, string>): Response {
  return errorResponse(status, { code, message, requestId: requestIdFor(request.headers.get("x-request-id")), ...(headers ? { headers } : {}) });
}
