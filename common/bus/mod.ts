/**
 * The message bus between processes.
 *
 * Delivery guarantees (the same for every implementation):
 * - at most once: a message published while a subscriber is disconnected is lost,
 *   so state that must survive (the latest price) also lives in keys;
 * - in order per channel from one publisher;
 * - a subscription outlives reconnects: the implementation resubscribes by itself.
 *
 * ```ts
 * const bus: Bus = createMemoryBus();
 * const stop = await bus.subscribe("grid:btc:usd", (message, channel) => console.log(channel, message));
 * await bus.publish("grid:btc:usd", "{}");
 * await stop();
 * ```
 */
export interface Bus {
  /** Sends `message` to every current subscriber of `channel`. */
  publish(channel: string, message: string): Promise<void>;
  /** Calls `handler` for every message on `channel` until the returned function is called. */
  subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe>;
  /**
   * Calls `listener` each time the subscriptions come back after the connection
   * dropped: what was published in between is lost, so a consumer that keeps the
   * messages elsewhere (the tick history) reads them back then.
   */
  onReconnect(listener: () => void): void;
  /** Ends every subscription and releases connections. */
  close(): Promise<void>;
}

/**
 * Called with each message on a subscribed channel; what it throws goes to the bus's `onHandlerError`.
 *
 * ```ts
 * const handler: MessageHandler = (message, channel) => log.debug({ channel, bytes: message.length }, "message");
 * ```
 */
export type MessageHandler = (message: string, channel: string) => void;
/**
 * Ends one subscription (the channel's others stay).
 *
 * ```ts
 * const unsubscribe: Unsubscribe = await bus.subscribe(channel, handler);
 * await unsubscribe();
 * ```
 */
export type Unsubscribe = () => Promise<void>;

export { createMemoryBus } from "./memory.ts";
export { createRedisBus } from "./redis.ts";
