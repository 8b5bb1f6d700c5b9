import { expect, test } from "bun:test";
import type { Socket } from "./connection.ts";
import { createGridSubscriptions, type LatestGrid } from "./grid-subscriptions.ts";

test("a join sends the latest grid and joins after it; a second join does nothing; leave leaves once", () => {
  const calls: unknown[] = [];
  const sent: string[] = [];
  let latest: LatestGrid | undefined = { message: '{"type":"grid","grid":{"ts":1}}', order: 7 };
  const grid = createGridSubscriptions({
    topic: { subscribe: (member, after) => void calls.push(["subscribe", member, after]), unsubscribe: (member) => void calls.push(["unsubscribe", member]) },
    latest: () => latest,
    sendText: (_, text) => void sent.push(text),
  });
  const member = {};
  const ws = { data: { wantsGrid: false, topicMember: member } } as unknown as Socket;
  grid.join(ws);
  grid.join(ws);
  expect(sent).toEqual(['{"type":"grid","grid":{"ts":1}}']);
  expect(calls).toEqual([["subscribe", member, 7]]);
  grid.leave(ws);
  grid.leave(ws);
  expect(calls).toEqual([["subscribe", member, 7], ["unsubscribe", member]]);
  // Before any grid: nothing sent, the socket joins at once (no order to wait for).
  latest = undefined;
  grid.join(ws);
  expect(sent).toHaveLength(1);
  expect(calls.at(-1)).toEqual(["subscribe", member, undefined]);
});
