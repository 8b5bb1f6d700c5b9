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
});
