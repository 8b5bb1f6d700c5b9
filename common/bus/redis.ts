import type Redis from "ioredis";
import { closeRedis } from "../redis.ts";
import { HandlerTable } from "./handlers.ts";
import type { Bus, MessageHandler } from "./mod.ts";

/**
 * The two Redis connections a Redis bus uses, and where handler errors go.
 *
 * ```ts
 * const options: RedisBusOptions = { publisher: createRedis(url, log, "commands"), subscriber: createRedis(url, log, "subscriber") };
 * ```
 */
export interface RedisBusOptions {
  /** Connection for PUBLISH; may be shared with other commands. */
  publisher: Redis;
  /** Connection that only subscribes (Redis forbids other commands on it); owned by the bus. */
  subscriber: Redis;
  onHandlerError?: (error: unknown, channel: string) => void;
}

/** How long after a reconnect the resubscription is taken to be in place. */
const RESUBSCRIBE_SETTLE_MS = 100;

/**
 * Redis pub/sub as a `Bus`: one subscriber connection per process, however
 * many handlers. ioredis resubscribes after a reconnect (`autoResubscribe`).
 *
 * ```ts
 * const bus = createRedisBus({ publisher, subscriber, onHandlerError: (error, channel) => log.error({ channel, err: String(error) }, "bus handler failed") });
 * bus.onReconnect(() => log.info("resubscribed"));
 * ```
 */
export function createRedisBus({ publisher, subscriber, onHandlerError = () => {} }: RedisBusOptions): Bus {
  const table = new HandlerTable(onHandlerError);
  subscriber.on("message", (channel: string, message: string) => table.dispatch(channel, message));
  const reconnectListeners: (() => void)[] = [];
  let connectedBefore = subscriber.status === "ready";
  subscriber.on("ready", () => {
    if (!connectedBefore) {
      connectedBefore = true;
      return;
    }
    // "ready" comes just before ioredis sends the SUBSCRIBEs again: tell listeners once those are in.
    setTimeout(() => {
      for (const listener of reconnectListeners) listener();
    }, RESUBSCRIBE_SETTLE_MS);
  });
  return {
    async publish(channel, message) {
      await publisher.publish(channel, message);
    },
    async subscribe(channel: string, handler: MessageHandler) {
      if (table.add(channel, handler)) {
        try {
          await subscriber.subscribe(channel);
        } catch (error) {
          // Forget the handler, or a retry would find the channel "already subscribed" and never SUBSCRIBE.
          table.remove(channel, handler);
          throw error;
        }
      }
      return async () => {
        if (table.remove(channel, handler) && subscriber.status === "ready") await subscriber.unsubscribe(channel);
      };
    },
    onReconnect(listener) {
      reconnectListeners.push(listener);
    },
    async close() {
      table.clear();
      await closeRedis(subscriber);
    },
  } satisfies Bus;
}
