import type { DestinationStream } from "pino";
import { isoNow, jsonString } from "../../common/log.ts";

export type RequestLogger = (method: string, path: string, status: number, durationMs: number, requestId: string) => void;

/**
 * Writes one line per request, in the JSON shape pino writes, built by hand:
 * this runs for every request, and pino's generic serialiser was the largest
 * single cost of a cheap request. Other log lines go through pino as usual.
 */
export function createRequestLogger(sink: DestinationStream, enabled: boolean): RequestLogger {
  if (!enabled) return () => {};
  return (method, path, status, durationMs, requestId) => {
    sink.write(
      `{"level":"info","time":"${isoNow()}","component":"api","method":${jsonString(method)},"path":${jsonString(path)},"status":${status},"duration_ms":${durationMs},"request_id":${jsonString(requestId)},"msg":"request"}\n`,
    );
  };
}
