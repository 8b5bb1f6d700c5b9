/**
 * How far behind in reading each client is, whatever holds the bytes it has
 * not read: ws's own queue, the kernel's socket buffers on either side of
 * nginx, nginx itself, or the client's receive buffer.
 *
 * Bun's `backpressureLimit` sees only ws's own queue, which starts to fill
 * only once the kernel's buffers are full (megabytes per socket), so a client
 * that stops reading could hold MBs of the host's memory for a minute. Here
 * the application counts what it has sent each connection and learns what
 * the client has read from websocket pings: a ping carries the byte count sent
 * before it, and a client answers a ping (browsers do by themselves, RFC 6455
 * §5.5.2) only once it has read every frame before it, so the echoed count is
 * what the client has read.
 *
 * Counting costs nothing per message per socket: a publish adds its size to
 * its topic's running total (once, whatever the number of subscribers), and a
 * connection keeps each topic's total as it was when it joined; what it was
 * sent is its direct sends plus, per topic, the total now minus its mark. The
 * sums are made only when a sweep looks at the connection.
 */

/** A topic's running byte total, shared by its members on this process. */
interface TopicBytes {
  bytes: number;
  members: number;
}

/** A topic a connection is in: the topic's total when it joined. */
interface Membership {
  name: string;
  topic: TopicBytes;
  mark: number;
}

/**
 * What the accounting keeps on each connection (inline in the connection's data).
 *
 * ```ts
 * const data = { id: "c1", ...newDelivery() }; // inline in the connection's data
 * ```
 */
export interface Delivery {
  /** Bytes sent directly, and by topics it has left. */
  sentBase: number;
  joined: Membership[];
  /** The byte count the client last echoed in a pong: everything up to it has been read. */
  acked: number;
  /** The counts carried by pings not answered yet, oldest first (at most MAX_PINGS_OUT). */
  pings: number[];
  /** The count carried by the latest ping. */
  pingedAt: number;
  /** When the bytes it was behind were first seen above the limit; NaN while under. */
  overSince: number;
}

/**
 * A socket as the accounting sees it: Bun's `ServerWebSocket` fits.
 *
 * ```ts
 * const socket: PingableSocket = { data: newDelivery(), ping: () => {} };
 * ```
 */
export interface PingableSocket<T extends Delivery = Delivery> {
  readonly data: T;
  ping(data?: string): unknown;
}

/**
 * The fields a new connection starts with.
 *
 * ```ts
 * newDelivery(); // { sentBase: 0, joined: [], acked: 0, pings: [], pingedAt: 0, overSince: NaN }
 * ```
 */
export function newDelivery(): Delivery {
  return { sentBase: 0, joined: [], acked: 0, pings: [], pingedAt: 0, overSince: Number.NaN };
}

/**
 * A websocket frame's size on the wire (server frames are not masked).
 *
 * ```ts
 * frameBytes(100);    // 102
 * frameBytes(1000);   // 1004
 * frameBytes(100_000); // 100010
 * ```
 */
export function frameBytes(payloadBytes: number): number {
  return payloadBytes + (payloadBytes < 126 ? 2 : payloadBytes < 65_536 ? 4 : 10);
}

/** Pings a client may leave unanswered before the oldest is forgotten (its pong then acknowledges nothing). */
const MAX_PINGS_OUT = 4;
/** The longest pong payload a count can be ("9007199254740991"). */
const MAX_COUNT_DIGITS = 16;
/** A count is ASCII digits. */
const DIGIT_0 = "0".charCodeAt(0);
const DIGIT_9 = "9".charCodeAt(0);

/**
 * How far behind a client may be, and for how long.
 *
 * ```ts
 * const options: UnackedBytesOptions = { limitBytes: 128 * 1024, graceMs: 3000 };
 * ```
 */
export interface UnackedBytesOptions {
  /** A client that stays more than this many bytes behind for `graceMs` is slow. */
  limitBytes: number;
  graceMs: number;
  /** A connection is pinged once it has been sent this many bytes since its last ping (default half the limit). */
  pingEveryBytes?: number;
}

/**
 * The byte counts of every connection of one server (see `createUnackedBytes`).
 *
 * ```ts
 * acks.sent(ws.data, frameBytes(text.length));
 * acks.unacked(ws.data); // bytes sent and not yet read
 * ```
 */
export interface UnackedBytes {
  /** A message published to `topic` (once per publish, not per subscriber). */
  published(topic: string, bytes: number): void;
  /** A message sent to one connection. */
  sent(delivery: Delivery, bytes: number): void;
  joined(delivery: Delivery, topic: string): void;
  left(delivery: Delivery, topic: string): void;
  /** The connection has closed: it leaves every topic. */
  closed(delivery: Delivery): void;
  /** Bytes sent to the connection so far. */
  sentTo(delivery: Delivery): number;
  /** Bytes sent and not yet acknowledged. */
  unacked(delivery: Delivery): number;
  /** Pings the socket with its count (the heartbeat's pings carry it too). */
  ping(socket: PingableSocket): void;
  /** A pong: an echoed count of one of this connection's pings acknowledges everything up to it; anything else is ignored. */
  pong(delivery: Delivery, payload: Uint8Array): void;
  /**
   * Looks at one connection (from a periodic sweep): pings it if it has been
   * sent `pingEveryBytes` since its last ping, and answers true when it has
   * been more than `limitBytes` behind for `graceMs` or longer. "Behind" is
   * counted up to its latest ping, which it has had a sweep's time to answer,
   * so a client that reads everything is never behind, however fast it is sent.
   */
  check(socket: PingableSocket, now: number): boolean;
  /** Topics with members on this process (for tests). */
  readonly topics: number;
}

/**
 * The byte accounting described at the top of this file, for every
 * connection of one server.
 *
 * ```ts
 * const acks = createUnackedBytes({ limitBytes: 128 * 1024, graceMs: 3000 });
 * acks.joined(ws.data, "grid");
 * acks.published("grid", frameBytes(message.length));
 * setInterval(() => { for (const ws of sockets) if (acks.check(ws, Date.now())) ws.close(4003, "too slow"); }, 500);
 * // pong(ws, data) { acks.pong(ws.data, data); }
 * ```
 */
export function createUnackedBytes({ limitBytes, graceMs, pingEveryBytes = Math.max(1, Math.floor(limitBytes / 2)) }: UnackedBytesOptions): UnackedBytes {
  if (!(limitBytes > 0) || !(graceMs >= 0) || !(pingEveryBytes > 0)) throw new RangeError("limitBytes and pingEveryBytes must be positive and graceMs not negative");
  const topics = new Map<string, TopicBytes>();

  const sentTo = (delivery: Delivery) => {
    let sent = delivery.sentBase;
    for (const { topic, mark } of delivery.joined) sent += topic.bytes - mark;
    return sent;
  };

  const ping = (socket: PingableSocket) => {
    const delivery = socket.data;
    const count = sentTo(delivery);
    if (delivery.pings.length >= MAX_PINGS_OUT) delivery.pings.shift();
    delivery.pings.push(count);
    delivery.pingedAt = count;
    socket.ping(String(count));
  };

  const leave = (delivery: Delivery, index: number) => {
    const { name, topic, mark } = delivery.joined[index]!;
    delivery.sentBase += topic.bytes - mark;
    delivery.joined.splice(index, 1);
    if (--topic.members === 0) topics.delete(name);
  };

  return {
    published(topic, bytes) {
      const total = topics.get(topic);
      if (total !== undefined) total.bytes += bytes;
    },
    sent(delivery, bytes) {
      delivery.sentBase += bytes;
    },
    joined(delivery, name) {
      if (delivery.joined.some((membership) => membership.name === name)) return;
      let topic = topics.get(name);
      if (topic === undefined) {
        topic = { bytes: 0, members: 0 };
        topics.set(name, topic);
      }
      topic.members++;
      delivery.joined.push({ name, topic, mark: topic.bytes });
    },
    left(delivery, name) {
      const index = delivery.joined.findIndex((membership) => membership.name === name);
      if (index >= 0) leave(delivery, index);
    },
    closed(delivery) {
      while (delivery.joined.length > 0) leave(delivery, delivery.joined.length - 1);
    },
    sentTo,
    unacked: (delivery) => sentTo(delivery) - delivery.acked,
    ping,
    pong(delivery, payload) {
      if (payload.length === 0 || payload.length > MAX_COUNT_DIGITS) return;
      let count = 0;
      for (const byte of payload) {
        if (byte < DIGIT_0 || byte > DIGIT_9) return;
        count = count * 10 + (byte - DIGIT_0);
      }
      const answered = delivery.pings.indexOf(count);
      if (answered < 0) return;
      delivery.pings.splice(0, answered + 1);
      if (count > delivery.acked) delivery.acked = count;
    },
    check(socket, now) {
      const delivery = socket.data;
      // Behind = sent up to the latest ping (answerable since the previous sweep) and not acknowledged.
      if (delivery.pingedAt - delivery.acked > limitBytes) {
        if (Number.isNaN(delivery.overSince)) delivery.overSince = now;
        else if (now - delivery.overSince >= graceMs) return true;
      } else delivery.overSince = Number.NaN;
      if (sentTo(delivery) - delivery.pingedAt >= pingEveryBytes) ping(socket);
      return false;
    },
    get topics() {
      return topics.size;
    },
  };
}
