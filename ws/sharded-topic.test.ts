import { describe, expect, test } from "bun:test";
import { createShardedTopic, type Subscriber } from "./sharded-topic.ts";

/** A fake socket that records the topics it is on. */
function socket(): Subscriber & { topics: Set<string> } {
  const topics = new Set<string>();
  return { topics, subscribe: (topic) => void topics.add(topic), unsubscribe: (topic) => void topics.delete(topic) };
}

function setup(shards: number) {
  const published: [string, string][] = [];
  const deferred: (() => void)[] = [];
  const topic = createShardedTopic({ name: "prices", shards, publish: (t, m) => published.push([t, m]), defer: (task) => deferred.push(task) });
  /** Runs one deferred task: one turn of the event loop. */
  const turn = () => deferred.shift()?.();
  return { topic, published, deferred, turn };
}

describe("sharded topic", () => {
  test("sockets are spread over the shards in turn, and keep their shard across unsubscribe and subscribe", () => {
    const { topic } = setup(3);
    const sockets = Array.from({ length: 4 }, socket);
    for (const s of sockets) topic.subscribe(s);
    expect(sockets.map((s) => [...s.topics])).toEqual([["prices#0"], ["prices#1"], ["prices#2"], ["prices#0"]]);
    topic.unsubscribe(sockets[1]!);
    expect(sockets[1]!.topics.size).toBe(0);
    topic.subscribe(sockets[1]!);
    expect([...sockets[1]!.topics]).toEqual(["prices#1"]);
  });

  test("a message reaches the first shard at once and each next shard one event-loop turn later", () => {
    const { topic, published, turn } = setup(3);
    topic.publish("a");
    expect(published).toEqual([["prices#0", "a"]]);
    expect(topic.pending).toBe(2);
    turn();
    expect(published.at(-1)).toEqual(["prices#1", "a"]);
    turn();
    expect(published.at(-1)).toEqual(["prices#2", "a"]);
    expect(topic.pending).toBe(0);
  });

  test("every shard gets the messages in the order they were published, even when they overlap", () => {
    const { topic, published, deferred, turn } = setup(3);
    topic.publish("a");
    turn();
    topic.publish("b");
    topic.publish("c");
    while (deferred.length > 0) turn();
    const byShard = (shard: string) => published.filter(([t]) => t === shard).map(([, m]) => m);
    for (const shard of ["prices#0", "prices#1", "prices#2"]) expect(byShard(shard)).toEqual(["a", "b", "c"]);
    expect(topic.pending).toBe(0);
  });

  test("a backlog costs one turn per shard: each shard's turn sends everything queued for it", () => {
    const { topic, published, deferred, turn } = setup(3);
    for (const m of ["a", "b", "c"]) topic.publish(m);
    expect(topic.pending).toBe(6);
    turn();
    expect(published.slice(3)).toEqual([
      ["prices#1", "a"],
      ["prices#1", "b"],
      ["prices#1", "c"],
    ]);
    turn();
    expect(topic.pending).toBe(0);
    expect(deferred).toEqual([]);
  });

  test("one shard publishes at once and defers nothing", () => {
    const { topic, published, deferred } = setup(1);
    topic.publish("a");
    expect(published).toEqual([["prices#0", "a"]]);
    expect(deferred).toEqual([]);
  });

  test("a shard count that is not a positive integer is refused", () => {
    expect(() => setup(0)).toThrow(RangeError);
    expect(() => setup(1.5)).toThrow(RangeError);
  });

  describe("a socket sent a snapshot first", () => {
    /** Sockets that receive what is published to the topics they are on at that moment. */
    function delivering(shards: number) {
      const sockets = new Set<Subscriber & { topics: Set<string>; got: string[] }>();
      const deferred: (() => void)[] = [];
      let clock = 0;
      const topic = createShardedTopic({
        name: "prices",
        shards,
        publish: (t, m) => {
          for (const s of sockets) if (s.topics.has(t)) s.got.push(m);
        },
        defer: (task) => deferred.push(task),
        maxWaitMs: 2000,
        now: () => clock,
      });
      const client = () => {
        const s = { ...socket(), got: [] as string[] };
        sockets.add(s);
        return s;
      };
      const drain = () => {
        while (deferred.length > 0) deferred.shift()!();
      };
      return { topic, client, drain, advance: (ms: number) => (clock += ms) };
    }

    test("does not get that message again when it is still queued for its shard", () => {
      const { topic, client, drain } = delivering(2);
      const first = client(); // shard 0
      const second = client(); // shard 1
      topic.subscribe(first);
      topic.publish("t10", 10); // shard 0 now, shard 1 on the next turn
      second.got.push("snapshot t10");
      topic.subscribe(second, 10);
      expect(topic.waiting).toBe(1);
      drain();
      topic.publish("t11", 11);
      drain();
      expect(second.got).toEqual(["snapshot t10", "t11"]);
      expect(first.got).toEqual(["t10", "t11"]);
      expect(topic.waiting).toBe(0);
    });

    test("does not get it again when it reaches the topic after the snapshot was read (still in Redis)", () => {
      const { topic, client, drain } = delivering(1);
      const s = client();
      topic.publish("t9", 9);
      topic.subscribe(s, 10);
      topic.publish("t10", 10);
      topic.publish("t11", 11);
      drain();
      expect(s.got).toEqual(["t11"]);
    });

    test("gets a newer message at once, and never an older one that arrives late", () => {
      const { topic, client } = delivering(1);
      const s = client();
      topic.subscribe(s, 10);
      topic.publish("t8", 8);
      expect(s.got).toEqual([]);
      topic.publish("t12", 12);
      expect(s.got).toEqual(["t12"]);
    });

    test("joins at once when its shard has already published the snapshot's message", () => {
      const { topic, client } = delivering(1);
      const s = client();
      topic.publish("t10", 10);
      topic.subscribe(s, 10);
      expect(topic.waiting).toBe(0);
      topic.publish("t11", 11);
      expect(s.got).toEqual(["t11"]);
    });

    test("stops waiting after maxWaitMs, so a clock that went back cannot keep it out", () => {
      const { topic, client, advance } = delivering(1);
      const s = client();
      topic.subscribe(s, 10_000);
      topic.publish("t5", 5);
      advance(2000);
      topic.publish("t6", 6);
      expect(s.got).toEqual(["t6"]);
    });

    test("a socket that unsubscribes or closes while waiting never joins", () => {
      const { topic, client } = delivering(2);
      const left = client(); // shard 0
      const closed = client(); // shard 1
      topic.subscribe(left, 10);
      topic.subscribe(closed, 10);
      expect(topic.waiting).toBe(2);
      topic.unsubscribe(left);
      topic.forget(closed);
      expect(topic.waiting).toBe(0);
      topic.publish("t11", 11);
      expect([left.got, closed.got, [...left.topics], [...closed.topics]]).toEqual([[], [], [], []]);
    });
  });
});
