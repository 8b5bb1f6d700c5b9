import { expect, test } from "bun:test";
import type { ServerWebSocket } from "bun";
import { waitFor } from "../test/support/wait.ts";
import { type Liveness, startHeartbeat } from "./heartbeat.ts";

/** Just what the heartbeat touches of a socket: its `data.alive` and `ping()`; an answering peer's pong marks it alive. */
function fakeSocket(name: string, answers = false) {
  const socket = {
    name,
    data: { alive: true },
    pings: 0,
    ping() {
      socket.pings++;
      if (answers) queueMicrotask(() => (socket.data.alive = true));
    },
  };
  return socket;
}
const asSockets = (sockets: ReturnType<typeof fakeSocket>[]) => sockets as unknown as ServerWebSocket<Liveness>[];

test("a socket that answers between beats is pinged every beat and never reported dead", async () => {
  const answering = fakeSocket("answering", true);
  const dead: string[] = [];
  const heartbeat = startHeartbeat({ sockets: asSockets([answering]), everyMs: 10, onDead: (ws) => dead.push((ws as unknown as { name: string }).name) });
  try {
    await waitFor("five pings", () => answering.pings >= 5);
    expect(dead).toEqual([]);
  } finally {
    heartbeat.stop();
  }
});

test("a silent socket is pinged once, then reported dead at the next beat (and not pinged again); the others carry on", async () => {
  const silent = fakeSocket("silent");
  const answering = fakeSocket("answering", true);
  const dead: string[] = [];
  const heartbeat = startHeartbeat({
    sockets: asSockets([silent, answering]),
    everyMs: 10,
    onDead: (ws) => dead.push((ws as unknown as { name: string }).name),
  });
  try {
    await waitFor("the silent one reported", () => dead.length > 0);
    expect(new Set(dead)).toEqual(new Set(["silent"]));
    expect(silent.pings).toBe(1);
    expect(answering.pings).toBeGreaterThanOrEqual(1);
  } finally {
    heartbeat.stop();
  }
});

test("a given ping function is used instead of ws.ping()", async () => {
  const socket = fakeSocket("s");
  const pinged: unknown[] = [];
  const heartbeat = startHeartbeat({ sockets: asSockets([socket]), everyMs: 10, ping: (ws) => pinged.push(ws), onDead() {} });
  try {
    await waitFor("a ping", () => pinged.length >= 1);
    expect(pinged[0]).toBe(socket);
    expect(socket.pings).toBe(0);
  } finally {
    heartbeat.stop();
  }
});

test("after stop() nothing is pinged", async () => {
  const socket = fakeSocket("s");
  const heartbeat = startHeartbeat({ sockets: asSockets([socket]), everyMs: 10, onDead() {} });
  await waitFor("a ping", () => socket.pings >= 1);
  heartbeat.stop();
  const pings = socket.pings;
  socket.data.alive = true;
  await Bun.sleep(50);
  expect(socket.pings).toBe(pings);
});
