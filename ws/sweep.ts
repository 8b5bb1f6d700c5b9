import { WsCloseCode } from "../common/contracts/ws.ts";
import { OPEN, type Socket } from "./connection.ts";
import type { CountedOutput } from "./counted-output.ts";
import type { UnackedBytes } from "./unacked-bytes.ts";

/**
 * What the sweep looks at, how often, and whom it tells.
 *
 * ```ts
 * const options: SweepOptions = { sockets, everyMs: 500, acks, graceMs: 3000, send: output.send, onSlow: () => slow++, onExpired: () => expired++ };
 * ```
 */
export interface SweepOptions {
  sockets: Iterable<Socket>;
  everyMs: number;
  acks: UnackedBytes;
  /** How long a client may stay over the byte limit behind; for the error message. */
  graceMs: number;
  send: CountedOutput["send"];
  /** Called once for each client closed for not reading. */
  onSlow(): void;
  /** Called once for each client closed because its session expired. */
  onExpired(): void;
}

/**
 * Looks at every open connection each `everyMs`: one whose session token
 * has expired gets `session_expired` and close 4002; one that has stayed too
 * far behind in reading (ws/unacked-bytes.ts) gets `slow_consumer` and close
 * 4003. One pass is cheaper than a timer per socket with 10,000 of them.
 *
 * ```ts
 * const sweep = startSweep({ sockets, everyMs: 500, acks, graceMs: 3000, send, onSlow, onExpired });
 * sweep.stop();
 * ```
 */
export function startSweep({ sockets, everyMs, acks, graceMs, send, onSlow, onExpired }: SweepOptions): { stop(): void } {
  /**
   * A client that does not read: the close frame queues behind what it has
   * not read (a client that was only slow still learns why), and Bun drops
   * the socket after its close timeout.
   */
  const closeSlow = (ws: Socket) => {
    onSlow();
    const behind = ws.data.pingedAt - ws.data.acked;
    send(ws, { type: "error", code: "slow_consumer", message: `${behind} bytes sent and not read for over ${graceMs} ms` });
    ws.data.closedBy = "slow reader";
    ws.close(WsCloseCode.slowConsumer, `not reading: ${behind} bytes behind`);
  };

  const expire = (ws: Socket) => {
    onExpired();
    send(ws, { type: "error", code: "session_expired", message: "the session token has expired; authenticate again" });
    ws.data.closedBy = "session expired";
    ws.close(WsCloseCode.sessionExpired, "session expired");
  };

  const timer = setInterval(() => {
    const now = Date.now();
    for (const ws of sockets) {
      if (ws.readyState !== OPEN) continue;
      if (ws.data.expiresAt <= now) expire(ws);
      else if (acks.check(ws, now)) closeSlow(ws);
    }
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
