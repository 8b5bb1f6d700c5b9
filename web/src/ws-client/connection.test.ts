import { describe, expect, test } from "bun:test";
import { createFakeClock, createFakeSockets } from "./_test-doubles.ts";
import { type ConnState, keepConnected, type OpenSocket } from "./connection.ts";

/** A connection over fake sockets and a fake clock, with what it reports recorded. */
function harness(options: { online?: boolean } = {}) {
  const fakes = createFakeSockets();
  const clock = createFakeClock();
  const states: ConnState[] = [];
  const messages: unknown[] = [];
  const opened: OpenSocket[] = [];
  const pings: number[] = [];
  let drops = 0;
  let resumed = 0;
  let online = options.online ?? true;
  const connection = keepConnected({
    url: "ws://test/ws",
    onState: (state) => states.push(state),
    onOpen: (socket) => void opened.push(socket),
    onMessage: (data) => void messages.push(data),
    onResumed: () => resumed++,
    onPing: (sentAt) => void pings.push(sentAt),
    onDrop: () => drops++,
    openSocket: fakes.openSocket,
    ...clock.seams,
    isOnline: () => online,
  });
  return {
    feed: connection,
    sockets: fakes.sockets,
    states,
    messages,
    opened,
    pings,
    drops: () => drops,
    advance: clock.advance,
    resumed: () => resumed,
    setOnline: (value: boolean) => (online = value),
    last: fakes.last,
  };
}

describe("connection", () => {
  test("starts reconnecting, turns live on open, and passes messages on", () => {
    const h = harness();
    expect(h.feed.state()).toBe("reconnecting");
    h.last().open();
    expect(h.states).toEqual(["live"]);
    expect(h.opened).toHaveLength(1);
    h.last().receive("hello");
    expect(h.messages).toEqual(["hello"]);
    expect(h.resumed()).toBe(1);
  });

  test("reconnects after a close with growing, jittered delays", () => {
    const h = harness();
    h.last().open();
    h.last().receive("x");
    h.last().drop();
    expect(h.feed.state()).toBe("reconnecting");
    expect(h.sockets).toHaveLength(1);
    h.advance(249);
    expect(h.sockets).toHaveLength(1);
    h.advance(1); // attempt 0 waits 250..500 ms (random = 0 here)
    expect(h.sockets).toHaveLength(2);
    h.last().drop(); // refused
    h.advance(499);
    expect(h.sockets).toHaveLength(2);
    h.advance(1); // attempt 1 waits 500..1000 ms
    expect(h.sockets).toHaveLength(3);
    h.last().open();
    expect(h.feed.state()).toBe("live");
    expect(h.opened).toHaveLength(2);
    h.last().receive("y");
    expect(h.resumed()).toBe(2);
  });

  test("only a connection that carried data resets the backoff", () => {
    const h = harness();
    h.last().open();
    h.last().drop(); // accepted, then dropped before a word
    h.advance(250);
    h.last().open();
    h.last().drop();
    h.advance(499);
    expect(h.sockets).toHaveLength(2); // attempt 1: 500 ms, not attempt 0's 250
    h.advance(1);
    expect(h.sockets).toHaveLength(3);
    expect(h.resumed()).toBe(0);
  });

  test("reads offline after several failures in a row, or at once when the browser is offline", () => {
    const h = harness();
    for (let i = 0; i < 4; i++) {
      h.last().drop();
      h.advance(20_000);
    }
    expect(h.states).toEqual(["offline"]);
    h.last().open();
    expect(h.feed.state()).toBe("live");

    const away = harness();
    away.last().open();
    away.setOnline(false);
    away.last().drop();
    expect(away.feed.state()).toBe("offline");
  });

  test("pings, and replaces a socket that has gone silent", () => {
    const h = harness();
    h.last().open();
    h.advance(5000);
    expect(h.last().sent.at(-1)).toBe('{"type":"ping"}');
    expect(h.pings).toEqual([5000]);
    h.advance(10_000); // silent for 15 s: past deadAfterMs
    expect(h.feed.state()).toBe("reconnecting");
    expect(h.drops()).toBe(1);
    h.advance(500);
    expect(h.sockets).toHaveLength(2);
  });

  test("a socket handed to onOpen stops being current once it is dropped", () => {
    const h = harness();
    h.last().open();
    const [socket] = h.opened;
    expect(socket!.isCurrent()).toBe(true);
    socket!.send("first");
    expect(h.last().sent).toEqual(["first"]);
    h.last().drop();
    expect(socket!.isCurrent()).toBe(false);
  });

  test("retryNow skips the wait, and close stops everything", () => {
    const h = harness();
    h.last().drop();
    h.feed.retryNow();
    expect(h.sockets).toHaveLength(2);
    h.feed.close();
    h.advance(60_000);
    expect(h.sockets).toHaveLength(2);
  });

  test("an openSocket that throws counts as a failed attempt and is retried", () => {
    let refuse = true;
    const fakes = createFakeSockets();
    const clock = createFakeClock();
    const connection = keepConnected({
      url: "ws://test/ws",
      onState: () => {},
      openSocket: (url) => {
        if (refuse) throw new SyntaxError(`bad url ${url}`);
        return fakes.openSocket();
      },
      ...clock.seams,
    });
    expect(connection.state()).toBe("reconnecting");
    expect(fakes.sockets).toHaveLength(0);
    refuse = false;
    clock.advance(250);
    expect(fakes.sockets).toHaveLength(1);
  });
});
