import type { LabelledTick } from "../common/contracts/price.ts";
import type { Logger } from "../common/log.ts";
import { withTimeout } from "../common/timeout.ts";
import { priceMessage } from "./bridge.ts";
import { OPEN, type Socket } from "./connection.ts";
import type { ShardedTopic } from "./sharded-topic.ts";

/**
 * Where prices come from and how a snapshot is sent.
 *
 * ```ts
 * const options: PriceSubscriptionsOptions = { topic, latestTick: () => ticks.latest(), seen: () => bridge.latest(), timeoutMs: 1000, sendText, log, onReadFailed: () => failures++ };
 * ```
 */
export interface PriceSubscriptionsOptions {
  /** The sharded `prices` topic (ws/sharded-topic.ts). */
  topic: ShardedTopic;
  /** The latest stored price (Redis `price:btc:usd`), sent to each client first. */
  latestTick: () => Promise<LabelledTick | undefined>;
  /** The newest tick the bridge has seen on the bus. */
  seen: () => LabelledTick | undefined;
  /** How long a client waits for the stored price before it is subscribed without one. */
  timeoutMs: number;
  sendText: (ws: Socket, text: string) => void;
  log: Logger;
  /** Called when the stored price could not be read in time. */
  onReadFailed: () => void;
}

/**
 * Subscribes sockets to prices and unsubscribes them.
 *
 * ```ts
 * void prices.join(ws); // on open, and on {"type":"subscribe","channel":"prices"}
 * prices.leave(ws);     // on {"type":"unsubscribe","channel":"prices"}
 * ```
 */
export interface PriceSubscriptions {
  /**
   * Sends the latest price, then subscribes: the snapshot is always the first
   * price a client sees, and the ticks after it are newer (a tick still on its
   * way to this client's shard, or through Redis, is the snapshot itself).
   */
  join(ws: Socket): Promise<void>;
  leave(ws: Socket): void;
}

/**
 * The `prices` subscriptions with their snapshot. Clients that connect
 * together share one read of the stored price.
 *
 * ```ts
 * const prices = createPriceSubscriptions({ topic, latestTick, seen: bridge.latest, timeoutMs: 1000, sendText, log, onReadFailed });
 * void prices.join(ws); // in the open handler
 * ```
 */
export function createPriceSubscriptions({ topic, latestTick, seen, timeoutMs, sendText, log, onReadFailed }: PriceSubscriptionsOptions): PriceSubscriptions {
  let storedRead: Promise<LabelledTick | undefined> | undefined;
  const readStored = () =>
    (storedRead ??= (async () => {
      try {
        return await withTimeout(latestTick(), timeoutMs, "reading the latest price");
      } catch (error) {
        onReadFailed();
        log.warn({ err: (error as Error).message }, "could not read the latest price; clients get the next tick");
        return undefined;
      } finally {
        storedRead = undefined;
      }
    })());

  return {
    async join(ws) {
      const join = ++ws.data.joins;
      ws.data.wantsPrices = true;
      const stored = await readStored();
      if (ws.readyState !== OPEN || ws.data.joins !== join) return;
      // A tick that went by while the store was read is newer than the stored one.
      const bus = seen();
      const latest = stored && bus ? (bus.ts > stored.ts ? bus : stored) : (stored ?? bus);
      if (latest) sendText(ws, priceMessage(latest));
      topic.subscribe(ws.data.topicMember!, latest?.ts);
    },
    leave(ws) {
      ws.data.joins++;
      ws.data.wantsPrices = false;
      topic.unsubscribe(ws.data.topicMember!);
    },
  };
}
