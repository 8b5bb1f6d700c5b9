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
 * Counts every answered request in `tap_http_request_duration_seconds`
 * (a histogram; its `_count` is the request count) by method, route pattern
 * (`/api/bets/:id`, never the raw path: bounded series) and status. A request
 * no route matched (404, 405) has the route `unmatched`. Observed after the
 * response is sent, so it adds nothing to the answer's latency.
 *
 * ```ts
 * new Elysia().use(httpMetrics()).get("/api/price", () => price);
 * ```
 */
export function httpMetrics() {
  const duration = histogram<"method" | "route" | "status">({
    name: "tap_http_request_duration_seconds",
    help: "HTTP requests answered, by method, route pattern and status: time from arrival to the handler's answer, in seconds.",
    labelNames: ["method", "route", "status"],
    buckets: [...HTTP_SECONDS_BUCKETS],
  });
  const startedAt = new WeakMap<Request, number>();
  return new Elysia({ name: "http-metrics" })
    .onRequest(({ request }) => {
      startedAt.set(request, performance.now());
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set, responseValue }) => {
      const started = startedAt.get(request);
      if (started === undefined) return;
      const status = responseValue instanceof Response ? responseValue.status : typeof set.status === "number" ? set.status : 200;
      const method = METHODS.has(request.method) ? request.method : "other";
      duration.observe({ method, route: route || "unmatched", status: String(status) }, (performance.now() - started) / 1000);
    });
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
