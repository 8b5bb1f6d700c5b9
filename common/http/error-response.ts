import type { ErrorBody, ErrorCode, ErrorDetail } from "../contracts/error.ts";

/**
 * What an error answer says besides its status; see `common/contracts/error.ts`.
 *
 * ```ts
 * const answer: ErrorAnswer = { code: "rate_limited", message: "slow down", requestId, headers: { "retry-after": "1" } };
 * errorResponse(429, answer);
 * ```
 */
export interface ErrorAnswer {
  code: ErrorCode;
  message: string;
  /** Echoed in the body and the `x-request-id` header (`common/request-id.ts` picks it). */
  requestId: string;
  /** Which parts of the request were wrong; none by default. */
  details?: ErrorDetail[];
  /** More headers, e.g. `retry-after`. */
  headers?: Record<string, string>;
}

/**
 * The one error contract (code, message, details, request id) as a JSON
 * response: every 4xx and 5xx of the API and of ws is made here.
 *
 * ```ts
 * const response = errorResponse(404, { code: "not_found", message: "no route for GET /nope", requestId: requestIdFor(null) });
 * await response.json(); // { error: { code: "not_found", message: "…", details: [], request_id: "…" } }
 * ```
 */
export function errorResponse(status: number, { code, message, requestId, details = [], headers = {} }: ErrorAnswer): Response {
  const body: ErrorBody = { error: { code, message, details, request_id: requestId } };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "x-request-id": requestId, ...headers },
  });
}
