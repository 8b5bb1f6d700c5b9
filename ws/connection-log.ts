import type { DestinationStream } from "pino";
import { createLogLine } from "../common/log-line.ts";
import { jsonString, type Logger } from "../common/log.ts";

/**
 * The two lines each websocket connection leaves in the log.
 *
 * ```ts
 * const connections: ConnectionLog = createConnectionLog(log, sink);
 * connections.closed(id, 1000, "bye", 5200, "peer");
 * ```
 */
export interface ConnectionLog {
  opened(conn: string, remote: string, forwardedFor: string | null): void;
  closed(conn: string, code: number, reason: string, durationMs: number, closedBy: string): void;
}

/**
 * Logs the connection lifecycle. Given `sink`, the destination `log` writes
 * to, the lines are built by hand and written there (`common/log-line.ts`), in
 * order with `log`'s other lines: connections come in storms (every client
 * reconnecting after a restart), and pino's generic serialiser left megabytes
 * of short-lived strings per thousand connections. Without it they go through
 * `log`, in the same shape. Nothing is written when `log` is above info.
 *
 * ```ts
 * const sink = createStdoutSink();
 * const log = createLogger({ component: "ws", level: "info", sink });
 * const connections = createConnectionLog(log, sink);
 * connections.opened(id, "203.0.113.7", null);
 * ```
 */
export function createConnectionLog(log: Logger, sink?: DestinationStream): ConnectionLog {
  if (!log.isLevelEnabled("info")) return { opened() {}, closed() {} };
  if (!sink) {
    return {
      opened: (conn, remote, forwardedFor) => log.info({ conn, remote, forwarded_for: forwardedFor }, "connection opened"),
      closed: (conn, code, reason, durationMs, closedBy) => log.info({ conn, code, reason, duration_ms: durationMs, closed_by: closedBy }, "connection closed"),
    };
  }
  const openedLine = createLogLine(sink, { component: "ws", msg: "connection opened" });
  const closedLine = createLogLine(sink, { component: "ws", msg: "connection closed" });
  return {
    opened(conn, remote, forwardedFor) {
      openedLine(`"conn":${jsonString(conn)},"remote":${jsonString(remote)},"forwarded_for":${forwardedFor === null ? "null" : jsonString(forwardedFor)}`);
    },
    closed(conn, code, reason, durationMs, closedBy) {
      closedLine(`"conn":${jsonString(conn)},"code":${code},"reason":${jsonString(reason)},"duration_ms":${durationMs},"closed_by":${jsonString(closedBy)}`);
    },
  };
}
