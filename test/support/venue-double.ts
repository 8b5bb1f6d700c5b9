import type { Server, ServerWebSocket } from "bun";

/** One client connection as a venue double sees it. */
export interface DoubleClient {
  /** The frames this client sent, in order. */
  received: string[];
  send(frame: string): void;
  /** Closes this client's socket with `code`. */
  close(code?: number, reason?: string): void;
}

export interface VenueDoubleOptions {
  /** Called when a client connects (e.g. a venue's status line on connect). */
  onOpen?(client: DoubleClient): void;
  /** Called with each frame a client sends (answer subscribes, pings). */
  onMessage?(client: DoubleClient, frame: string): void;
}

/**
 * A local websocket server standing in for a venue: the per-venue doubles
 * (`test/support/venues/*.ts`) put the venue's documented protocol on top.
 * Faults on demand: `silent` (the socket stays open, nothing is sent), `dropAll`
 * (an abrupt close), and whatever frames a test sends (malformed, outliers).
 *
 * ```ts
 * await using double = await startVenueDouble({ onMessage: (client, frame) => client.send(ack(frame)) });
 * connectVenue({ protocol, url: double.url, ... });
 * ```
 */
export async function startVenueDouble({ onOpen, onMessage }: VenueDoubleOptions = {}) {
  const clients = new Set<ServerWebSocket<DoubleClient>>();
  const deadlines = new Set<ReturnType<typeof setTimeout>>();
  let silent = false;
  let connections = 0;
  const server: Server<DoubleClient> = Bun.serve<DoubleClient>({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request, server) {
      const data: DoubleClient = {
        received: [],
        send: () => {},
        close: () => {},
      };
      return server.upgrade(request, { data }) ? undefined : new Response("expected a websocket", { status: 426 });
    },
    websocket: {
      open(ws) {
        connections++;
        clients.add(ws);
        ws.data.send = (frame) => {
          if (!silent && ws.readyState === 1) ws.sendText(frame);
        };
        ws.data.close = (code = 1000, reason = "") => ws.close(code, reason);
        onOpen?.(ws.data);
      },
      message(ws, message) {
        const frame = typeof message === "string" ? message : new TextDecoder().decode(message);
        ws.data.received.push(frame);
        onMessage?.(ws.data, frame);
      },
      close(ws) {
        clients.delete(ws);
      },
    },
  });
  const double = {
    url: `ws://127.0.0.1:${server.port}`,
    /** Connections accepted so far. */
    get connections() {
      return connections;
    },
    /** The clients connected now. */
    get clients(): DoubleClient[] {
      return [...clients].map((ws) => ws.data);
    },
    /** Sends `frame` to every client connected now. */
    broadcast(frame: string) {
      for (const ws of clients) ws.data.send(frame);
    },
    /** While true, nothing is sent and the sockets stay open. */
    set silent(value: boolean) {
      silent = value;
    },
    get silent() {
      return silent;
    },
    /** Closes every client's socket at once (1006-like from the client's side: no close frame). */
    dropAll() {
      for (const ws of clients) ws.terminate();
    },
    /**
     * Closes `client` with 1008 and `reason` after `withinMs` unless `subscribed()` says it has
     * subscribed by then, as a venue that requires an early subscribe does (Coinbase: 5 s).
     */
    closeUnlessSubscribed(client: DoubleClient, withinMs: number, subscribed: () => boolean, reason: string) {
      const timer = setTimeout(() => {
        deadlines.delete(timer);
        if (!subscribed()) client.close(1008, reason);
      }, withinMs);
      deadlines.add(timer);
    },
    async stop() {
      for (const timer of deadlines) clearTimeout(timer);
      await server.stop(true);
    },
    async [Symbol.asyncDispose]() {
      await double.stop();
    },
  };
  return double;
}

export type VenueDouble = Awaited<ReturnType<typeof startVenueDouble>>;
