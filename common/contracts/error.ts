import { Type as t, type Static } from "@sinclair/typebox";

/**
 * Machine-readable error codes; every non-2xx answer carries one.
 *
 * ```ts
 * const code: ErrorCode = "insufficient_funds";
 * ```
 */
export const ErrorCode = t.Union([
  t.Literal("validation_failed"),
  t.Literal("bad_json"),
  t.Literal("not_found"),
  t.Literal("method_not_allowed"),
  t.Literal("payload_too_large"),
  t.Literal("unsupported_media_type"),
  t.Literal("unauthorized"),
  t.Literal("off_grid"),
  t.Literal("cell_locked"),
  /** The cell's expected return is below `MIN_RTP`, or its fair multiplier above `MAX_MULTIPLIER`: shown on the grid, not offered (docs/rules.md). */
  t.Literal("not_offered"),
  /** The cell's multiplier is now below the bet's `min_multiplier`; the error carries `current_multiplier`. */
  t.Literal("quote_changed"),
  t.Literal("insufficient_funds"),
  t.Literal("limit_exceeded"),
  t.Literal("rate_limited"),
  /** `PUT /api/players/me/nickname`: 409, another player has that nickname (in any case). */
  t.Literal("nickname_taken"),
  /** A plain request to the websocket endpoint: 426, it must be a websocket upgrade. */
  t.Literal("upgrade_required"),
  t.Literal("unavailable"),
  t.Literal("internal"),
]);
export type ErrorCode = Static<typeof ErrorCode>;

/**
 * One thing wrong with a request: where (a JSON pointer into the body or query) and what.
 *
 * ```ts
 * const detail: ErrorDetail = { path: "/amount", message: "too many decimals" };
 * ```
 */
export const ErrorDetail = t.Object({
  path: t.String(),
  message: t.String(),
});
export type ErrorDetail = Static<typeof ErrorDetail>;

/**
 * The one error contract for every 4xx and 5xx answer of the API.
 *
 * ```ts
 * const body: ErrorBody = {
 *   error: { code: "validation_failed", message: "request does not match the contract", details: [detail],
 *     request_id: "0192f0c5-1d2e-7f3a-8b4c-5d6e7f8a9b0c" },
 * };
 * ```
 */
export const ErrorBody = t.Object({
  error: t.Object({
    code: ErrorCode,
    message: t.String(),
    details: t.Array(ErrorDetail),
    request_id: t.String(),
    /** Only with `quote_changed`: the multiplier the cell pays now. */
    current_multiplier: t.Optional(t.Number()),
  }),
});
export type ErrorBody = Static<typeof ErrorBody>;
