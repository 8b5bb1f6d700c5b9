import type { Socket } from "./connection.ts";
import type { ShardedTopic } from "./sharded-topic.ts";

/**
 * The latest grid as sent to clients, and its place in the order the grid
 * bridge published them.
 *
 * ```ts
 * const latest: LatestGrid = { message: '{"type":"grid","grid":{…}}', order: 42 };
 * ```
 */
export interface LatestGrid {
  message: string;
  order: number;
}

/**
 * Subscribing a socket to the grid: the latest grid at once, then each new one.
 *
 * ```ts
 * grid.join(ws);  // on {"type":"subscribe","channel":"grid"}
 * grid.leave(ws); // on {"type":"unsubscribe","channel":"grid"}
 * ```
 */
export interface GridSubscriptions {
  /** Sends the latest grid, then joins the topic (a second join does nothing). */
  join(ws: Socket): void;
  leave(ws: Socket): void;
}

/**
 * Grid subscriptions over a sharded topic (ws/sharded-topic.ts): a new grid
 * reaches the sockets one shard per turn of the event loop, so the frames of
 * one grid to thousands of players do not hold the thread (and nginx behind
 * it) in one burst. A joining socket is sent the latest grid and joins its
 * shard once the shard has published that grid: it gets neither it twice nor
 * an older one after it.
 *
 * ```ts
 * const grid = createGridSubscriptions({ topic: gridTopic, latest: () => gridBridge.latest(), sendText: output.sendText });
 * ```
 */
export function createGridSubscriptions({
  topic,
  latest,
  sendText,
}: {
  topic: Pick<ShardedTopic, "subscribe" | "unsubscribe">;
  latest: () => LatestGrid | undefined;
  sendText: (ws: Socket, text: string) => void;
}): GridSubscriptions {
  return {
    join(ws) {
      if (ws.data.wantsGrid) return;
      ws.data.wantsGrid = true;
      const grid = latest();
      if (grid) sendText(ws, grid.message);
      topic.subscribe(ws.data.topicMember!, grid?.order);
    },
    leave(ws) {
      if (!ws.data.wantsGrid) return;
      ws.data.wantsGrid = false;
      topic.unsubscribe(ws.data.topicMember!);
    },
  };
}
