/**
 * Websocket clients for the ws tests (in-process and against the real service).
 * Not used by the service itself.
 */
import { connect, type Socket } from "node:net";
import { waitFor } from "../test/support/wait.ts";

export interface TestClient {
  ws: WebSocket;
  /** Every message received so far, as sent (text) or as bytes (binary). */
  received: (string | Uint8Array)[];
  /** The text messages parsed as JSON (others skipped). */
  json(): Record<string, unknown>[];
  /** Waits for a JSON message that matches, received after `from` (an index into `received`). */
  next(what: string, match: (message: Record<string, unknown>) => boolean, from?: number, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the close code and reason, however the connection ended. */
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function parse(message: string | Uint8Array): Record<string, unknown> | undefined {
  if (typeof message !== "string") return undefined;
  try {
    const value: unknown = JSON.parse(message);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Opens a websocket and waits until it is open (or fails); `headers` go with the upgrade request. */
export async function connectClient(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
  // Bun's constructor takes headers; tsconfig's DOM lib declares only the browser's (url, protocols).
  const BunWebSocket = WebSocket as unknown as new (url: string, options: Bun.WebSocketOptions) => WebSocket;
  const ws = new BunWebSocket(url, { headers });
  ws.binaryType = "arraybuffer";
  const received: (string | Uint8Array)[] = [];
  ws.addEventListener("message", (event) => {
    received.push(typeof event.data === "string" ? event.data : new Uint8Array(event.data as ArrayBuffer));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason }));
  });
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("error", () => reject(new Error(`could not open ${url}`)));
  });
  const close = async () => {
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, "test done");
    await Promise.race([closed, Bun.sleep(2000)]);
  };
  return {
    ws,
    received,
    json: () =>
      received.flatMap((message) => {
        const parsed = parse(message);
        return parsed ? [parsed] : [];
      }),
    next: (what, match, from = 0, timeoutMs = 10_000) =>
      waitFor(what, () => received.slice(from).map(parse).find((message) => message !== undefined && match(message)), timeoutMs),
    closed,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * A bare TCP client that completes the websocket handshake and then reads but
 * never writes: it does not answer pings, like a peer whose app has hung.
 * `pause()` also stops reading, like a client that cannot keep up.
 */
export interface RawClient {
  socket: Socket;
  /** Bytes received after the handshake. */
  bytes(): number;
  closed: Promise<void>;
  isClosed(): boolean;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function connectRawClient(port: number, path = "/ws", { paused = false } = {}): Promise<RawClient> {
  const socket = connect(port, "127.0.0.1");
  let upgraded = false;
  let bytes = 0;
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    socket.on("close", () => {
      isClosed = true;
      resolve();
    }),
  );
  socket.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    socket.on("connect", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    socket.on("data", (chunk: Buffer) => {
      if (upgraded) {
        bytes += chunk.length;
        return;
      }
      if (!chunk.toString("latin1").startsWith("HTTP/1.1 101")) {
        reject(new Error(`handshake refused: ${chunk.toString("latin1").split("\r\n")[0]}`));
        return;
      }
      upgraded = true;
      if (paused) socket.pause();
      resolve();
    });
    socket.on("close", () => reject(new Error("closed during the handshake")));
  });
  return {
    socket,
    bytes: () => bytes,
    closed,
    isClosed: () => isClosed,
    async [Symbol.asyncDispose]() {
      socket.destroy();
      await closed;
    },
  };
}
