import pino from "pino";
import { isoNow, jsonString, type Logger } from "../common/log.ts";

/** The two lines each websocket connection leaves in the log. */
export interface ConnectionLog {
  opened(conn: string, remote: string, forwardedFor: string | null): void;
  closed(conn: string, code: number, reason: string, durationMs: number, closedBy: string): void;
}

/**
 * Writes the connection lifecycle lines in the JSON shape pino writes, built by
 * hand, to `log`'s own destination (so they stay in order with its other
 * lines). Connections come in storms (every client reconnecting after a
 * restart), and pino's generic serialiser left megabytes of short-lived strings
 * per thousand connections; one template per line leaves one string.
 * Nothing is written when `log` is above info.
 *
 * ```ts
 * const connections = createConnectionLog(log);
 * connections.opened(id, "203.0.113.7", null);
 * ```
 */
export function createConnectionLog(log: Logger): ConnectionLog {
  if (!log.isLevelEnabled("info")) return { opened() {}, closed() {} };
  const sink = (log as unknown as Record<symbol, pino.DestinationStream>)[pino.symbols.streamSym];
  if (!sink) throw new TypeError("the logger has no destination stream");
  return {
    opened(conn, remote, forwardedFor) {
      sink.write(
        `{"level":"info","time":"${isoNow()}","component":"ws","conn":${jsonString(conn)},"remote":${jsonString(remote)},"forwarded_for":${forwardedFor === null ? "null" : jsonString(forwardedFor)},"msg":"connection opened"}\n`,
      );
    },
    closed(conn, code, reason, durationMs, closedBy) {
      sink.write(
        `{"level":"info","time":"${isoNow()}","component":"ws","conn":${jsonString(conn)},"code":${code},"reason":${jsonString(reason)},"duration_ms":${durationMs},"closed_by":${jsonString(closedBy)},"msg":"connection closed"}\n`,
      );
    },
  };
}
