import type { Server } from "bun";
import { type Connection, newConnection } from "./connection.ts";
import { errorAnswer } from "./http.ts";

const HEALTH = JSON.stringify({ status: "ok", component: "ws" });
const HEALTH_HEADERS = { "content-type": "application/json" };

/**
 * What the routes need to know of the server.
 *
 * ```ts
 * const options: RoutesOptions = { accepting: () => sockets.size < 10_000, onRejected: () => rejected++, maxMessagesPerS: 50, metrics: metricsResponse };
 * ```
 */
export interface RoutesOptions {
  /** Whether a new websocket may open now (not shutting down, under the connection limit). */
  accepting: () => boolean;
  /** Called for each upgrade refused by `accepting`. */
  onRejected: () => void;
  maxMessagesPerS: number;
  /** The answer to `GET /metrics`: the process's metrics in the Prometheus text format (common/metrics). */
  metrics: () => Promise<Response>;
}

/**
 * The service's HTTP side: `/ws` (the websocket upgrade: 503 `unavailable`
 * when not accepting, 426 `upgrade_required` for a request that is not an
 * upgrade), `/healthz` (also `/ws/healthz`, through nginx), `/metrics` (the
 * Prometheus text format, on this port only: nginx proxies just `/ws`), and a
 * 404 in the error contract otherwise.
 *
 * ```ts
 * Bun.serve<Connection>({ port: 0, fetch: createRoutes({ accepting: () => true, onRejected() {}, maxMessagesPerS: 50, metrics: metricsResponse }), websocket });
 * ```
 */
export function createRoutes({ accepting, onRejected, maxMessagesPerS, metrics }: RoutesOptions) {
  return (request: Request, server: Server<Connection>): Response | Promise<Response> | undefined => {
    const path = new URL(request.url).pathname;
    if (path === "/ws") {
      if (!accepting()) {
        onRejected();
        return errorAnswer(request, 503, "unavailable", "too many connections, try again later");
      }
      if (server.upgrade(request, { data: newConnection(request, maxMessagesPerS, Date.now()) })) return undefined;
      // A 426 names the protocol to switch to (RFC 9110, section 15.5.22).
      return errorAnswer(request, 426, "upgrade_required", "expected a websocket upgrade", { upgrade: "websocket" });
    }
    if (path === "/healthz" || path === "/ws/healthz") return new Response(HEALTH, { headers: HEALTH_HEADERS });
    if (path === "/metrics") return metrics();
    return errorAnswer(request, 404, "not_found", `no route for ${request.method} ${path}`);
  };
}
