import type { ServerMessage } from "../common/contracts/ws.ts";
import type { Socket } from "./connection.ts";
import { frameBytes, type UnackedBytes } from "./unacked-bytes.ts";

/**
 * Everything the server sends a socket, and every topic it joins or leaves,
 * counted in the socket's byte counts (ws/unacked-bytes.ts) on the way.
 *
 * ```ts
 * const output: CountedOutput = createCountedOutput(acks);
 * output.sendText(ws, priceMessage(tick));
 * ```
 */
export interface CountedOutput {
  /** Sends an already serialised message. */
  sendText(ws: Socket, text: string): void;
  /** Serialises and sends one message of the protocol. */
  send(ws: Socket, message: ServerMessage): void;
  /** Sends bytes as they came (a binary echo). */
  sendBinary(ws: Socket, bytes: Uint8Array | ArrayBuffer): void;
  join(ws: Socket, topic: string): void;
  leave(ws: Socket, topic: string): void;
}

/**
 * The server's one way of writing to a socket, so that what a client has been
 * sent and has read is always known.
 *
 * ```ts
 * const output = createCountedOutput(acks);
 * output.send(ws, { type: "pong", ts: Date.now() });
 * output.join(ws, "grid");
 * ```
 */
export function createCountedOutput(acks: UnackedBytes): CountedOutput {
  const sendText = (ws: Socket, text: string) => {
    acks.sent(ws.data, frameBytes(Buffer.byteLength(text)));
    ws.sendText(text);
  };
  return {
    sendText,
    send: (ws, message) => sendText(ws, JSON.stringify(message)),
    sendBinary(ws, bytes) {
      acks.sent(ws.data, frameBytes(bytes.byteLength));
      ws.send(bytes);
    },
    join(ws, topic) {
      ws.subscribe(topic);
      acks.joined(ws.data, topic);
    },
    leave(ws, topic) {
      ws.unsubscribe(topic);
      acks.left(ws.data, topic);
    },
  };
}
