/**
 * Hand-driven doubles for the websocket client's tests: sockets a test opens,
 * feeds and drops, and a clock whose timers fire only when the test advances it.
 * Every step of a connection's life is a call in the test.
 *
 * ```ts
 * const sockets = createFakeSockets();
 * const clock = createFakeClock();
 * keepConnected({ url: "ws://test/ws", onState, openSocket: sockets.openSocket, ...clock.seams });
 * sockets.last().open();
 * clock.advance(5_000);
 * ```
 *
 * @module
 */
import type { SocketLike } from "./connection.ts";

/** A socket the test drives: what the client sent, and calls for what the server or network does. */
export type FakeSocket = SocketLike & { sent: string[]; open(): void; receive(data: unknown): void; drop(): void };

/** Fake sockets, one per `openSocket` call, in the order they were opened. */
export function createFakeSockets() {
  const sockets: FakeSocket[] = [];
  const openSocket = (): FakeSocket => {
    const sent: string[] = [];
    const socket: FakeSocket = {
      readyState: 0,
      sent,
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
      send: (data) => void sent.push(data),
      close: () => void (socket.readyState = 3),
      open: () => {
        socket.readyState = 1;
        socket.onopen?.({});
      },
      receive: (data) => socket.onmessage?.({ data }),
      drop: () => {
        socket.readyState = 3;
        socket.onclose?.({});
      },
    };
    sockets.push(socket);
    return socket;
  };
  return { sockets, openSocket, last: () => sockets.at(-1)! };
}

/** A clock that starts at 0 and moves only on `advance`, firing the timers due on the way in order. */
export function createFakeClock() {
  let time = 0;
  const timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const seams = {
    now: () => time,
    setTimer: (fn: () => void, ms: number): unknown => {
      const id = nextId++;
      timers.push({ at: time + ms, fn, id });
      return id;
    },
    clearTimer: (id: unknown) => {
      const index = timers.findIndex((timer) => timer.id === id);
      if (index >= 0) timers.splice(index, 1);
    },
    random: () => 0,
  };
  const advance = (ms: number) => {
    const until = time + ms;
    for (;;) {
      timers.sort((a, b) => a.at - b.at);
      const due = timers[0];
      if (!due || due.at > until) break;
      timers.shift();
      time = due.at;
      due.fn();
    }
    time = until;
  };
  return { seams, advance };
}
