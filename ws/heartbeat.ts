import type { ServerWebSocket } from "bun";

/**
 * What the heartbeat keeps on each connection: set true by any pong or message.
 *
 * ```ts
 * pong(ws) { ws.data.alive = true; } // any pong or message
 * ```
 */
export interface Liveness {
  alive: boolean;
}

/**
 * What the heartbeat pings, how often, and what it does with a dead peer.
 *
 * ```ts
 * const options: HeartbeatOptions<Connection> = { sockets, everyMs: 30_000, onDead: (ws) => ws.terminate() };
 * ```
 */
export interface HeartbeatOptions<T extends Liveness> {
  sockets: Iterable<ServerWebSocket<T>>;
  everyMs: number;
  /** Sends the ping (default `ws.ping()`); the server's carries the socket's byte count (ws/unacked-bytes.ts). */
  ping?: (ws: ServerWebSocket<T>) => void;
  /** Called for a socket that answered nothing since the previous beat. */
  onDead(ws: ServerWebSocket<T>): void;
}

/**
 * Pings every socket each `everyMs` and reports those that answered nothing
 * (no pong, no message) since the previous ping, so a dead peer is found
 * between one and two intervals after it stops answering.
 *
 * Bun's own `idleTimeout` is not enough for a push server: in Bun 1.4 every
 * outbound frame re-arms it, so a peer that keeps being sent ticks is never
 * timed out (oven-sh/bun#39255).
 *
 * ```ts
 * const heartbeat = startHeartbeat({ sockets, everyMs: 30_000, onDead: (ws) => ws.terminate() });
 * heartbeat.stop();
 * ```
 */
export function startHeartbeat<T extends Liveness>({ sockets, everyMs, ping = (ws) => ws.ping(), onDead }: HeartbeatOptions<T>): { stop(): void } {
  const beat = () => {
    for (const ws of sockets) {
      if (!ws.data.alive) {
        onDead(ws);
        continue;
      }
      ws.data.alive = false;
      ping(ws);
    }
  };
  const timer = setInterval(beat, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
