import { Elysia, ValidationError } from "elysia";
import type { ErrorDetail } from "../../common/contracts/error.ts";
import { errorResponse } from "../../common/http/error-response.ts";
import type { Logger } from "../../common/log.ts";
import { requestIdFor } from "../../common/request-id.ts";
import { HttpError } from "./http-error.ts";
import { readJsonBody } from "./json-body.ts";
import type { RequestLogger } from "./request-log.ts";
import type { RouteTable } from "./route-table.ts";

/**
 * What the foundation logs with, and where it looks up the routes for a 405.
 *
 * ```ts
 * const options: FoundationOptions = { log, logRequest: createRequestLogger(sink, true), routeTable: () => createRouteTable(routes) };
 * ```
 */
export interface FoundationOptions {
  log: Logger;
  logRequest: RequestLogger;
  /** Looked up lazily: the routes exist only once the whole app is assembled. */
  routeTable: () => RouteTable;
  /** Told of each answered request with its route pattern (`/api/bets/:id`; `unmatched` for none): the request metrics. */
  onAnswered?: (method: string, route: string, status: number, durationMs: number) => void;
}

/** Per-request facts the hooks share; keyed by the request so nothing leaks between requests. */
const startedAt = new WeakMap<Request, number>();

/**
 * What every route gets: a request id (taken when sane, always echoed), one
 * log line per request, JSON bodies read within limits, and every error
 * answered in the one error contract: 400, 404, 405, 413, 415 and 500 alike.
 *
 * ```ts
 * const routes = [{ method: "GET", path: "/api/grid" }];
 * new Elysia().use(httpFoundation({ log, logRequest, routeTable: () => createRouteTable(routes) }));
 * ```
 */
export function httpFoundation({ log, logRequest, routeTable, onAnswered }: FoundationOptions) {
  const finished = (request: Request, path: string, status: number, requestId: string, route: string | undefined) => {
    const started = startedAt.get(request);
    const duration = started === undefined ? 0 : Math.round((performance.now() - started) * 1000) / 1000;
    logRequest(request.method, path, status, duration, requestId);
    onAnswered?.(request.method, route || "unmatched", status, duration);
  };
  return new Elysia({ name: "http-foundation" })
    .onRequest(({ request, set }) => {
      startedAt.set(request, performance.now());
      set.headers["x-request-id"] = requestIdFor(request.headers.get("x-request-id"));
    })
    // A parse hook's undefined makes Elysia parse again by the content type (and fail on an
    // empty chunked JSON body): null is "no body", and stops it.
    .onParse({ as: "global" }, async ({ request, contentType }) => (await readJsonBody(request, contentType)) ?? null)
    .onError({ as: "global" }, ({ code, error, set, request, path, route }) => {
      const requestId = String(set.headers["x-request-id"] ?? requestIdFor(null));
      const expected = toHttpError(code, error, request.method, path, routeTable);
      if (!expected) {
        // The stack goes to the log only; the caller sees the contract and the id to quote.
        log.error({ err: error, request_id: requestId, method: request.method, path }, "unhandled error");
      } else if (expected.status >= 500) {
        // A deliberate 5xx (no fresh price, a store unreachable) is a state of the system, not a bug: no stack.
        log.warn({ request_id: requestId, method: request.method, path, status: expected.status, code: expected.code }, expected.message);
      }
      const failure = expected ?? internalError;
      set.status = failure.status;
      finished(request, path, failure.status, requestId, route);
      return errorResponse(failure.status, { code: failure.code, message: failure.message, requestId, details: failure.details, headers: failure.headers });
    })
    .onAfterHandle({ as: "global" }, ({ request, set, path, route, responseValue }) => {
      const status = responseValue instanceof Response ? responseValue.status : typeof set.status === "number" ? set.status : 200;
      finished(request, path, status, String(set.headers["x-request-id"]), route);
    });
}

const internalError = new HttpError(500, "internal", "internal error");

/** Maps what was thrown on purpose (or refused by Elysia) to the error contract's status and code; undefined for anything else. */
function toHttpError(code: string | number, error: unknown, method: string, path: string, routeTable: () => RouteTable): HttpError | undefined {
  if (error instanceof HttpError) return error;
  // Elysia wraps errors thrown by a parse hook (our 413 and 415) as PARSE.
  if (code === "PARSE") {
    const cause = (error as Error).cause;
    return cause instanceof HttpError ? cause : new HttpError(400, "bad_json", "request body is not valid JSON");
  }
  if (code === "VALIDATION") {
    return new HttpError(400, "validation_failed", "request does not match the contract", validationDetails(error));
  }
  if (code === "NOT_FOUND") {
    const allowed = routeTable().allowedMethods(path);
    return allowed.length > 0
      ? new HttpError(405, "method_not_allowed", `${method} is not allowed here`, [], { allow: allowed.join(", ") })
      : new HttpError(404, "not_found", `no route for ${method} ${path}`);
  }
  return undefined;
}

function validationDetails(error: unknown): ErrorDetail[] {
  if (!(error instanceof ValidationError)) return [];
  // TypeBox reports a missing property twice (missing, then wrong type): keep the first word on each path.
  const byPath = new Map<string, string>();
  for (const problem of error.all) {
    const path = "path" in problem && typeof problem.path === "string" && problem.path !== "" ? problem.path : "/";
    if (!byPath.has(path)) byPath.set(path, problem.summary ?? problem.message ?? "invalid value");
    if (byPath.size >= 20) break;
  }
  return [...byPath].map(([path, message]) => ({ path, message }));
}
