import type { ErrorBody, ErrorCode, ErrorDetail } from "../../common/contracts/error.ts";

/** Builds the one error contract body. */
export function errorBody(code: ErrorCode, message: string, requestId: string, details: ErrorDetail[] = []): ErrorBody {
  return { error: { code, message, details, request_id: requestId } };
}

/** The error contract as a JSON response, with the request id echoed. */
export function errorResponse(
  status: number,
  code: ErrorCode,
  message: string,
  requestId: string,
  details: ErrorDetail[] = [],
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(errorBody(code, message, requestId, details)), {
    status,
    headers: { "content-type": "application/json", "x-request-id": requestId, ...headers },
  });
}
