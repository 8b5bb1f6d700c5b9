import type { ErrorBody, ErrorCode } from "../../common/contracts/error.ts";

/** The code an error status carries when a route names no other (api/http/foundation.ts, api/sessions/auth.ts). */
const USUAL_CODES: Record<number, ErrorCode[]> = {
  400: ["validation_failed"],
  401: ["unauthorized"],
  404: ["not_found"],
  405: ["method_not_allowed"],
  413: ["payload_too_large"],
  415: ["unsupported_media_type"],
  429: ["rate_limited"],
  500: ["internal"],
  503: ["unavailable"],
};

/** One message per code, as the API words it. */
const MESSAGES: Record<ErrorCode, string> = {
  validation_failed: "request does not match the contract",
  bad_json: "request body is not valid JSON",
  not_found: "no such bet",
  method_not_allowed: "DELETE is not allowed here",
  payload_too_large: "request body is larger than 16384 bytes",
  unsupported_media_type: "request body must be application/json",
  unauthorized: "missing Authorization: Bearer token",
  off_grid: "this cell is not on the grid",
  cell_locked: "this cell's window starts too soon or has started",
  not_offered: "this cell returns 22.7% on average, below the 90% a cell must return to be offered",
  quote_changed: "the multiplier is now 2.38×, below the 2.43× asked",
  insufficient_funds: "balance is too low for this stake",
  limit_exceeded: "stake must be between 0.1 and 100",
  rate_limited: "too many requests; slow down",
  nickname_taken: "another player has this nickname",
  upgrade_required: "expected a websocket upgrade",
  unavailable: "no fresh price to quote from",
  internal: "internal error",
};

const REQUEST_ID = "0192f0c5-1d2e-7f3a-8b4c-5d6e7f8a9b0c";

/**
 * The codes an error status of a route can carry: the ones the route names, or the status's usual one.
 *
 * ```ts
 * errorCodesFor(409, { 409: ["cell_locked", "quote_changed"] }); // ["cell_locked", "quote_changed"]
 * errorCodesFor(415, undefined); // ["unsupported_media_type"]
 * ```
 */
export function errorCodesFor(status: number, named: Partial<Record<number, ErrorCode[]>> | undefined): ErrorCode[] {
  return named?.[status] ?? USUAL_CODES[status] ?? ["internal"];
}

/**
 * An answer in the error contract with this code, as an example for the document.
 *
 * ```ts
 * errorExample("quote_changed").error.current_multiplier; // 2.38
 * ```
 */
export function errorExample(code: ErrorCode): ErrorBody {
  const details = code === "validation_failed" ? [{ path: "/amount", message: "must have at most two decimal places" }] : [];
  const error: ErrorBody["error"] = { code, message: MESSAGES[code], details, request_id: REQUEST_ID };
  if (code === "quote_changed") error.current_multiplier = 2.38;
  return { error };
}
