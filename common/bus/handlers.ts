import type { MessageHandler } from "./mod.ts";

/**
 * The handlers registered per channel, shared by the implementations: one
 * transport subscription per channel however many handlers there are.
 * A throwing handler is reported and never stops delivery to the others.
 *
 * ```ts
 * const table = new HandlerTable((error, channel) => console.error(channel, error));
 * if (table.add("ch", handler)) await subscriber.subscribe("ch"); // the channel's first handler
 * table.dispatch("ch", "hello");
 * ```
 */
export class HandlerTable {
  readonly #byChannel = new Map<string, Set<MessageHandler>>();

  constructor(private readonly onHandlerError: (error: unknown, channel: string) => void) {}

  /** Adds a handler; true when it is the channel's first. */
  add(channel: string, handler: MessageHandler): boolean {
    let handlers = this.#byChannel.get(channel);
    const first = handlers === undefined;
    if (!handlers) this.#byChannel.set(channel, (handlers = new Set()));
    handlers.add(handler);
    return first;
  }

  /** Removes a handler; true when the channel has none left. */
  remove(channel: string, handler: MessageHandler): boolean {
    const handlers = this.#byChannel.get(channel);
    if (!handlers?.delete(handler)) return false;
    if (handlers.size > 0) return false;
    this.#byChannel.delete(channel);
    return true;
  }

  /** Calls every handler of `channel` with `message`; one that throws is reported, and the rest still run. */
  dispatch(channel: string, message: string): void {
    const handlers = this.#byChannel.get(channel);
    if (!handlers) return;
    for (const handler of handlers) {
      try {
        handler(message, channel);
      } catch (error) {
        this.onHandlerError(error, channel);
      }
    }
  }

  /** Forgets every handler (the bus is closing). */
  clear(): void {
    this.#byChannel.clear();
  }
}
