import type { DestinationStream } from "pino";
import { createLogLine } from "../../common/log-line.ts";
import { jsonString } from "../../common/log.ts";

/**
 * Logs one finished request.
 *
 * ```ts
 * const logRequest: RequestLogger = createRequestLogger(sink, true);
 * logRequest("POST", "/api/bets", 202, 1.7, requestId);
 * ```
 */
export type RequestLogger = (method: string, path: string, status: number, durationMs: number, requestId: string) => void;

/**
 * Writes one line per request to `sink` (`common/log-line.ts`): this runs for
 * every request, so the line is built by hand. Other log lines go through
 * pino as usual.
 *
 * ```ts
 * const logRequest = createRequestLogger(sink, log.isLevelEnabled("info"));
 * logRequest("GET", "/api/price", 200, 0.41, requestId);
 * ```
 */
export function createRequestLogger(sink: DestinationStream, enabled: boolean): RequestLogger {
  if (!enabled) return () => {};
  const line = createLogLine(sink, { component: "api", msg: "request" });
  return (method, path, status, durationMs, requestId) => {
    line(`"method":${jsonString(method)},"path":${jsonString(path)},"status":${status},"duration_ms":${durationMs},"request_id":${jsonString(requestId)}`);
  };
}
