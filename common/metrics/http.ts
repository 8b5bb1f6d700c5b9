import { Elysia } from "elysia";
import { histogram, metricsResponse } from "./registry.ts";

/** Methods kept as they are in the `method` label; any other is `other`, so a client cannot mint series. */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Request latency buckets, in seconds: a bet is answered in about a
 * millisecond, a slow read in tens, a drain-test request in 1.5 s.
 *
 * ```ts
 * HTTP_SECONDS_BUCKETS[0]; // 0.0005
 * ```
 */
export const HTTP_SECONDS_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Records one answered request in `tap_http_request_duration_seconds` (a
 * histogram; its `_count` is the request count) by method, route pattern
 * (`/api/bets/:id`, never the raw path: bounded series) and status; `unmatched`
 * is the route of a request no route matched (404, 405). The API's HTTP
 * foundation calls it with the figures it already has for its request log,
 * so a request costs one observation and no hook of its own.
 *
 * ```ts
 * const onAnswered = requestMetrics();
 * onAnswered("GET", "/api/bets/:id", 200, 0.42);
 * ```
 */
export function requestMetrics(): (method: string, route: string, status: number, durationMs: number) => void {
  const duration = histogram<"method" | "route" | "status">({
    name: "tap_http_request_duration_seconds",
    help: "HTTP requests answered, by method, route pattern and status: time from arrival to the handler's answer, in seconds.",
    labelNames: ["method", "route", "status"],
    buckets: [...HTTP_SECONDS_BUCKETS],
  });
  return (method, route, status, durationMs) => {
    duration.observe({ method: METHODS.has(method) ? method : "other", route, status: String(status) }, durationMs / 1000);
  };
}

/**
 * `GET /metrics`: the process's metrics in the Prometheus text format. Mount it
 * at the root, outside `/api/`, so nginx (which proxies only `/api/` and `/ws`)
 * never reaches it; Prometheus scrapes the service's own port.
 *
 * ```ts
 * new Elysia().use(metricsRoute()); // GET /metrics
 * ```
 */
export function metricsRoute() {
  return new Elysia({ name: "metrics-route" }).get("/metrics", () => metricsResponse());
}
