/**
 * What a sharded topic needs of a socket: Bun's `ServerWebSocket` subscribe and unsubscribe.
 *
 * ```ts
 * const member: Subscriber = { subscribe: (topic) => ws.subscribe(topic), unsubscribe: (topic) => ws.unsubscribe(topic) };
 * ```
 */
export interface Subscriber {
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

/**
 * How a topic is split and published.
 *
 * ```ts
 * const options: ShardedTopicOptions = { name: "prices", shards: 10, publish: (topic, message) => server.publish(topic, message) };
 * ```
 */
export interface ShardedTopicOptions {
  /** The topic's name; shard `i` is the Bun topic `<name>#<i>`. */
  name: string;
  shards: number;
  /** `server.publish`. */
  publish: (topic: string, message: string) => unknown;
  /** Runs `task` after the event loop has had a turn (setImmediate); injected in tests. */
  defer?: (task: () => void) => void;
  /** A socket waits at most this long for the message it was sent first to reach its shard (see `subscribe`). */
  maxWaitMs?: number;
  now?: () => number;
}

/**
 * One topic over several Bun topics (see `createShardedTopic`).
 *
 * ```ts
 * const prices: ShardedTopic = createShardedTopic(options);
 * prices.subscribe(member);
 * prices.publish(message);
 * ```
 */
export interface ShardedTopic {
  /**
   * Subscribes the socket to its shard (the same one each time). With `after`,
   * the socket was already sent the message of that order (a snapshot): it
   * joins its shard only once the shard has published that message, so it does
   * not get it twice, nor anything older after it. It joins before the first
   * newer message, or at the first publish after `maxWaitMs`.
   */
  subscribe(socket: Subscriber, after?: number): void;
  unsubscribe(socket: Subscriber): void;
  /** Drops a closed socket that is still waiting to join. */
  forget(socket: Subscriber): void;
  /** Publishes the message to the first shard now and to each other shard on a later turn of the event loop. */
  publish(message: string, order?: number): void;
  /** Messages still waiting for their shard's turn, over all shards. */
  readonly pending: number;
  /** Sockets still waiting to join their shard. */
  readonly waiting: number;
}

/**
 * One topic split over several Bun topics, published one shard per turn of
 * the event loop. Bun writes a publish's frames to every subscriber at the
 * end of the turn, so one publish to thousands of sockets holds the thread
 * for tens of ms; between shards, whatever else arrived (a player's settled
 * bet, a command) is handled instead of waiting for every socket to have the
 * tick. A shard's turn publishes everything queued for it, in publish order,
 * so a backlog costs one turn per shard, not one per message.
 *
 * ```ts
 * const prices = createShardedTopic({ name: "prices", shards: 10, publish: (t, m) => server.publish(t, m) });
 * prices.publish('{"type":"price",…,"ts":1000}', 1000);
 * ws.sendText(snapshot); // the latest price, ts 1000
 * prices.subscribe(ws, 1000); // joins once its shard has published ts 1000
 * ```
 */
export function createShardedTopic({ name, shards, publish, defer = setImmediate, maxWaitMs = 2000, now = performance.now.bind(performance) }: ShardedTopicOptions): ShardedTopic {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shards must be a positive integer, got ${shards}`);
  const topics = Array.from({ length: shards }, (_, i) => `${name}#${i}`);
  const shardOf = new WeakMap<Subscriber, number>();
  let nextSubscriber = 0;
  // Shard 0 is published at once; the others wait here for their turn.
  const queued: { message: string; order: number }[][] = topics.map(() => []);
  // The order of the last message each shard published, and the sockets waiting to join it.
  const publishedUpTo: number[] = topics.map(() => Number.NEGATIVE_INFINITY);
  const joining: Map<Subscriber, { after: number; since: number }>[] = topics.map(() => new Map());
  let pending = 0;
  let cursor = 0;
  let draining = false;

  const join = (shard: number, socket: Subscriber) => {
    joining[shard]!.delete(socket);
    socket.subscribe(topics[shard]!);
  };

  const publishTo = (shard: number, message: string, order: number) => {
    const waiters = joining[shard]!;
    if (waiters.size > 0) {
      const at = now();
      // A newer message is theirs; so is any message once they have waited too long.
      for (const [socket, { after, since }] of waiters) if (order > after || at - since >= maxWaitMs) join(shard, socket);
    }
    publish(topics[shard]!, message);
    if (order > publishedUpTo[shard]!) publishedUpTo[shard] = order;
    // The message they were sent has gone by: they join without it.
    if (waiters.size > 0) for (const [socket, { after }] of waiters) if (order === after) join(shard, socket);
  };

  const publishNextShard = () => {
    do cursor = (cursor % (shards - 1)) + 1;
    while (queued[cursor]!.length === 0);
    const messages = queued[cursor]!;
    queued[cursor] = [];
    pending -= messages.length;
    for (const { message, order } of messages) publishTo(cursor, message, order);
    if (pending > 0) defer(publishNextShard);
    else draining = false;
  };

  const shardFor = (socket: Subscriber) => {
    let shard = shardOf.get(socket);
    if (shard === undefined) {
      shard = nextSubscriber++ % shards;
      shardOf.set(socket, shard);
    }
    return shard;
  };

  const forget = (socket: Subscriber) => {
    const shard = shardOf.get(socket);
    if (shard !== undefined) joining[shard]!.delete(socket);
  };

  return {
    subscribe(socket, after) {
      const shard = shardFor(socket);
      forget(socket);
      if (after === undefined || publishedUpTo[shard]! >= after) {
        socket.subscribe(topics[shard]!);
        return;
      }
      joining[shard]!.set(socket, { after, since: now() });
    },
    unsubscribe(socket) {
      forget(socket);
      const shard = shardOf.get(socket);
      if (shard !== undefined) socket.unsubscribe(topics[shard]!);
    },
    forget,
    publish(message, order = Number.POSITIVE_INFINITY) {
      publishTo(0, message, order);
      if (shards === 1) return;
      for (let i = 1; i < shards; i++) queued[i]!.push({ message, order });
      pending += shards - 1;
      if (!draining) {
        draining = true;
        defer(publishNextShard);
      }
    },
    get pending() {
      return pending;
    },
    get waiting() {
      return joining.reduce((sum, waiters) => sum + waiters.size, 0);
    },
  };
}
