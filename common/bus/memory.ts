import { HandlerTable } from "./handlers.ts";
import type { Bus, MessageHandler } from "./mod.ts";

/**
 * A bus inside one process: for unit tests and a single-process demo.
 * Delivery is asynchronous (a microtask later), like a real broker's.
 *
 * ```ts
 * const bus = createMemoryBus((error, channel) => log.error({ channel, err: String(error) }, "bus handler failed"));
 * await bus.subscribe("ch", (message) => console.log(message));
 * await bus.publish("ch", "hello"); // delivered a microtask later
 * ```
 */
export function createMemoryBus(onHandlerError: (error: unknown, channel: string) => void = () => {}): Bus {
  const table = new HandlerTable(onHandlerError);
  let closed = false;
  return {
    async publish(channel, message) {
      if (closed) throw new Error("bus is closed");
      queueMicrotask(() => table.dispatch(channel, message));
    },
    async subscribe(channel: string, handler: MessageHandler) {
      if (closed) throw new Error("bus is closed");
      table.add(channel, handler);
      return async () => {
        table.remove(channel, handler);
      };
    },
    // In one process nothing is ever disconnected.
    onReconnect() {},
    async close() {
      closed = true;
      table.clear();
    },
  } satisfies Bus;
}
