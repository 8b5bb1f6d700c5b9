import type { MessageHandler } from "./mod.ts";

/**
 * The handlers registered per channel, shared by the implementations: one
 * transport subscription per channel however many handlers there are.
 * A throwing handler is reported and never stops delivery to the others.
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

  clear(): void {
    this.#byChannel.clear();
  }
}
