import { connect, type Socket } from "node:net";

/**
 * A websocket client that completes the handshake, sends a few commands, and
 * then stops reading: its socket is paused, so whatever the server sends piles
 * up in the kernel's buffers (and in any proxy between) until the server gives
 * up on it. It answers no ping while paused, since it sees none. `resume()`
 * reads again, and `closeFrame()` reads until the server's close frame.
 * Used by the ws tests and bench/slow-readers.ts.
 */
export interface SlowReader {
  socket: Socket;
  /** Whether the socket was seen closed; a paused socket may not notice until it reads or is destroyed. */
  closed(): boolean;
  /** Reads everything sent so far and after, until the server's close frame: its code and reason. */
  closeFrame(timeoutMs?: number): Promise<{ code: number; reason: string }>;
  destroy(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface SlowReaderOptions {
  port: number;
  /** Where to connect: 127.0.0.1 unless said. */
  host?: string;
  /** The source address (127.0.0.2, …): nginx lets one address hold 100 websockets. */
  localAddress?: string;
  path?: string;
  /** Text messages sent right after the handshake, e.g. `{"type":"subscribe","channel":"grid"}`. */
  commands?: string[];
  timeoutMs?: number;
}

/** A masked client-to-server text frame (RFC 6455 §5.2), payload under 64 KiB. */
export function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length >= 65_536) throw new RangeError("payload must be under 64 KiB");
  const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

/**
 * Reads whole server frames (unmasked) from the start of `stream`: the first
 * close frame among them, and how many bytes of whole frames came before it
 * (so a caller keeps only the rest for the next chunk).
 */
export function readFrames(stream: Buffer): { close?: { code: number; reason: string }; consumed: number } {
  let at = 0;
  while (at + 2 <= stream.length) {
    const opcode = stream[at]! & 0x0f;
    let length = stream[at + 1]! & 0x7f;
    let header = 2;
    if (length === 126) {
      if (at + 4 > stream.length) break;
      length = stream.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      if (at + 10 > stream.length) break;
      length = Number(stream.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (at + header + length > stream.length) break;
    if (opcode === 0x8) {
      const payload = stream.subarray(at + header, at + header + length);
      return { close: { code: payload.length >= 2 ? payload.readUInt16BE(0) : 1005, reason: payload.subarray(2).toString("utf8") }, consumed: at };
    }
    at += header + length;
  }
  return { consumed: at };
}

/**
 * Opens a slow reader; resolves once the server has answered 101 and the
 * commands are written.
 *
 * ```ts
 * await using reader = await openSlowReader({ port, commands: ['{"type":"subscribe","channel":"grid"}'] });
 * ```
 */
export async function openSlowReader({ port, host = "127.0.0.1", localAddress, path = "/ws", commands = [], timeoutMs = 10_000 }: SlowReaderOptions): Promise<SlowReader> {
  const socket = connect({ port, host, ...(localAddress ? { localAddress } : {}) });
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    socket.once("close", () => {
      isClosed = true;
      resolve();
    }),
  );
  socket.on("error", () => {});
  // The bytes after the 101 answer, kept only once `closeFrame` reads them.
  let frames: Buffer = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no websocket handshake within ${timeoutMs} ms`)), timeoutMs);
    let head: Buffer = Buffer.alloc(0);
    socket.once("connect", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      );
    });
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      socket.off("data", onData);
      clearTimeout(timer);
      if (!head.toString("latin1", 0, 12).startsWith("HTTP/1.1 101")) {
        reject(new Error(`handshake refused: ${head.toString("latin1").split("\r\n")[0]}`));
        return;
      }
      frames = head.subarray(end + 4);
      // From here on nothing is read: the kernel's receive buffer fills, then the sender's.
      socket.pause();
      for (const command of commands) socket.write(maskedTextFrame(command));
      resolve();
    };
    socket.on("data", onData);
    socket.once("close", () => {
      clearTimeout(timer);
      reject(new Error("closed during the handshake"));
    });
  });
  const destroy = async () => {
    socket.destroy();
    await closed;
  };
  return {
    socket,
    closed: () => isClosed,
    closeFrame: (closeTimeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        let rest: Buffer = frames;
        let read = frames.length;
        const timer = setTimeout(() => reject(new Error(`no close frame within ${closeTimeoutMs} ms (${read} bytes read)`)), closeTimeoutMs);
        const look = () => {
          const { close, consumed } = readFrames(rest);
          rest = rest.subarray(consumed);
          if (!close) return false;
          clearTimeout(timer);
          resolve(close);
          return true;
        };
        if (look()) return;
        socket.on("data", (chunk: Buffer) => {
          read += chunk.length;
          rest = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
          look();
        });
        socket.once("close", () => {
          if (!look()) {
            clearTimeout(timer);
            reject(new Error(`closed without a close frame (${read} bytes read)`));
          }
        });
        socket.resume();
      }),
    destroy,
    [Symbol.asyncDispose]: destroy,
  };
}
