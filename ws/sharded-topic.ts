/** What a sharded topic needs of a socket: Bun's `ServerWebSocket` subscribe and unsubscribe. */
export interface Subscriber {
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
}

export interface ShardedTopicOptions {
  /** The topic's name; shard `i` is the Bun topic `<name>#<i>`. */
  name: string;
  shards: number;
  /** `server.publish`. */
  publish: (topic: string, message: string) => unknown;
  /** Runs `task` after the event loop has had a turn (setImmediate); injected in tests. */
  defer?: (task: () => void) => void;
}

export interface ShardedTopic {
  /** Subscribes the socket to its shard (the same one each time). */
  subscribe(socket: Subscriber): void;
  unsubscribe(socket: Subscriber): void;
  /** Publishes the message to the first shard now and to each other shard on a later turn of the event loop. */
  publish(message: string): void;
  /** Messages still waiting for their shard's turn, over all shards. */
  readonly pending: number;
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
 * prices.subscribe(ws);
 * prices.publish('{"type":"price",…}');
 * ```
 */
export function createShardedTopic({ name, shards, publish, defer = setImmediate }: ShardedTopicOptions): ShardedTopic {
  if (!Number.isInteger(shards) || shards < 1) throw new RangeError(`shards must be a positive integer, got ${shards}`);
  const topics = Array.from({ length: shards }, (_, i) => `${name}#${i}`);
  const shardOf = new WeakMap<Subscriber, string>();
  let nextSubscriber = 0;
  // Shard 0 is published at once; the others wait here for their turn.
  const queued: string[][] = topics.map(() => []);
  let pending = 0;
  let cursor = 0;
  let draining = false;

  const publishNextShard = () => {
    do cursor = (cursor % (shards - 1)) + 1;
    while (queued[cursor]!.length === 0);
    const messages = queued[cursor]!;
    queued[cursor] = [];
    pending -= messages.length;
    for (const message of messages) publish(topics[cursor]!, message);
    if (pending > 0) defer(publishNextShard);
    else draining = false;
  };

  return {
    subscribe(socket) {
      let topic = shardOf.get(socket);
      if (!topic) {
        topic = topics[nextSubscriber++ % shards]!;
        shardOf.set(socket, topic);
      }
      socket.subscribe(topic);
    },
    unsubscribe(socket) {
      const topic = shardOf.get(socket);
      if (topic) socket.unsubscribe(topic);
    },
    publish(message) {
      publish(topics[0]!, message);
      if (shards === 1) return;
      for (let i = 1; i < shards; i++) queued[i]!.push(message);
      pending += shards - 1;
      if (!draining) {
        draining = true;
        defer(publishNextShard);
      }
    },
    get pending() {
      return pending;
    },
  };
}
