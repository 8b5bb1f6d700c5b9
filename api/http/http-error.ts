import type { ErrorCode, ErrorDetail } from "../../common/contracts/error.ts";

/**
 * An error that becomes an HTTP answer in the error contract. Thrown by
 * handlers and hooks; turned into a response in one place, the `onError`
 * hook of `httpFoundation` (api/http/foundation.ts).
 *
 * ```ts
 * throw new HttpError(405, "method_not_allowed", "DELETE is not allowed here", [], { allow: "GET" });
 * ```
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}
