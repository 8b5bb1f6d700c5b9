import { reconnectDelay } from "./backoff.ts";
import { PING_COMMAND } from "./client-commands.ts";

/**
 * What the page shows about the websocket; the text of `data-testid="conn"`.
 *
 * ```ts
 * const state: ConnState = "reconnecting";
 * ```
 */
export type ConnState = "live" | "reconnecting" | "offline";

/**
 * The part of the browser's `WebSocket` the client uses, so a test can hand it a fake.
 *
 * ```ts
 * const socket: SocketLike = new WebSocket("wss://example.test/ws");
 * ```
 */
export interface SocketLike {
  readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * The connection's socket as its hooks see it: it may be replaced at any moment.
 *
 * ```ts
 * if (socket.isCurrent()) socket.send(authCommand(token));
 * ```
 */
export interface OpenSocket {
  send(data: string): void;
  /** True while this socket is still the connection's and open: something sent later (a token) asks first. */
  isCurrent(): boolean;
}

/**
 * Where to connect, what to tell the page, and the seams a test replaces (socket, clock, timers, randomness).
 *
 * ```ts
 * const options: ConnectionOptions = { url: "wss://example.test/ws", onState: (state) => console.log(state) };
 * ```
 */
export interface ConnectionOptions {
  url: string;
  onState: (state: ConnState) => void;
  /** A socket opened: send what every connection starts with (subscriptions, auth). Called before the state turns `live`. */
  onOpen?: (socket: OpenSocket) => void;
  /** Every message, as it came (`event.data`). */
  onMessage?: (data: unknown) => void;
  /** Each (re)connection, once the server has sent something: the moment to fill a gap in history. */
  onResumed?: () => void;
  /** A ping went out at `sentAt` (local clock). */
  onPing?: (sentAt: number) => void;
  /** The socket is gone: the pings in flight on it will never be answered. */
  onDrop?: () => void;
  openSocket?: (url: string) => SocketLike;
  /** Local clock, ms. */
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
  random?: () => number;
  isOnline?: () => boolean;
  /** A ping goes out this often (default `PING_EVERY_MS`). */
  pingEveryMs?: number;
  /** A socket silent this long is closed and replaced (default `DEAD_AFTER_MS`). */
  deadAfterMs?: number;
  /** After this many failed attempts in a row the state reads `offline`; it keeps retrying (default `OFFLINE_AFTER_FAILURES`). */
  offlineAfterFailures?: number;
}

/**
 * A kept connection: its state, and the two ways the page steers it.
 *
 * ```ts
 * const connection: Connection = keepConnected(options);
 * ```
 */
export interface Connection {
  state(): ConnState;
  /** Retry now instead of waiting out the backoff (the browser came back online, the tab became visible). */
  retryNow(): void;
  close(): void;
}

/** How often a ping goes out on an open socket, ms. */
const PING_EVERY_MS = 5_000;
/** A socket that has sent nothing for this long (two pings unanswered, and then some) is taken for dead, ms. */
const DEAD_AFTER_MS = 12_000;
/** Failed attempts in a row after which the state reads `offline`. */
const OFFLINE_AFTER_FAILURES = 4;

/** `WebSocket.OPEN`, spelt out because a fake socket has no such static. */
const OPEN = 1;
/** The close code for a normal closure (RFC 6455, 7.4.1): the page itself ends the connection. */
const NORMAL_CLOSURE = 1000;

/**
 * Keeps one websocket to `url` open for as long as the page lives: pings to
 * find a dead connection that never closed, and reconnects by itself with
 * backoff and jitter (`reconnectDelay`). The state it reports is `live` while a
 * socket is open, `reconnecting` while it tries, and `offline` when the browser
 * is offline or several attempts in a row failed. What goes over the socket is
 * the hooks' business (`onOpen`, `onMessage`).
 *
 * ```ts
 * const connection = keepConnected({ url: "wss://example.test/ws", onState: showState, onMessage: read });
 * window.addEventListener("online", () => connection.retryNow());
 * ```
 */
export function keepConnected(options: ConnectionOptions): Connection {
  const {
    url,
    onState,
    onOpen = () => {},
    onMessage = () => {},
    onResumed = () => {},
    onPing = () => {},
    onDrop = () => {},
    openSocket = (target) => new WebSocket(target) as unknown as SocketLike,
    now = Date.now,
    setTimer = (fn, ms) => setTimeout(fn, ms),
    clearTimer = (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
    random = Math.random,
    isOnline = () => true,
    pingEveryMs = PING_EVERY_MS,
    deadAfterMs = DEAD_AFTER_MS,
    offlineAfterFailures = OFFLINE_AFTER_FAILURES,
  } = options;

  let socket: SocketLike | undefined;
  let state: ConnState = "reconnecting";
  let failures = 0;
  let closed = false;
  let retryTimer: unknown;
  let pingTimer: unknown;
  let lastHeardAt = 0;
  let heardSinceOpen = false;

  const setState = (next: ConnState) => {
    if (next === state) return;
    state = next;
    onState(next);
  };

  const stopPinging = () => {
    if (pingTimer !== undefined) clearTimer(pingTimer);
    pingTimer = undefined;
  };

  const ping = () => {
    pingTimer = setTimer(ping, pingEveryMs);
    if (!socket || socket.readyState !== OPEN) return;
    if (now() - lastHeardAt > deadAfterMs) {
      // Open on paper, silent in fact (a dropped network, a frozen proxy): replace it.
      drop(socket);
      return;
    }
    onPing(now());
    socket.send(PING_COMMAND);
  };

  const scheduleRetry = () => {
    if (closed || retryTimer !== undefined) return;
    const delay = reconnectDelay(failures - 1, { random });
    retryTimer = setTimer(() => {
      retryTimer = undefined;
      connect();
    }, delay);
  };

  /** Forgets a socket and starts over: every way a connection ends comes through here once. */
  const drop = (dead: SocketLike) => {
    if (dead !== socket) return;
    dead.onopen = dead.onmessage = dead.onclose = dead.onerror = null;
    try {
      dead.close();
    } catch {
      // Already closing.
    }
    socket = undefined;
    stopPinging();
    onDrop();
    if (closed) return;
    failures++;
    setState(!isOnline() || failures >= offlineAfterFailures ? "offline" : "reconnecting");
    scheduleRetry();
  };

  const connect = () => {
    if (closed || socket) return;
    let next: SocketLike;
    try {
      next = openSocket(url);
    } catch {
      failures++;
      setState(failures >= offlineAfterFailures ? "offline" : "reconnecting");
      scheduleRetry();
      return;
    }
    socket = next;
    heardSinceOpen = false;
    next.onopen = () => {
      lastHeardAt = now();
      onOpen({ send: (data) => next.send(data), isCurrent: () => socket === next && next.readyState === OPEN });
      setState("live");
      stopPinging();
      pingTimer = setTimer(ping, pingEveryMs);
    };
    next.onmessage = (event) => {
      lastHeardAt = now();
      if (!heardSinceOpen) {
        heardSinceOpen = true;
        // Only a connection that carried data resets the backoff, so a server that
        // accepts and drops at once is not hammered.
        failures = 0;
        onResumed();
      }
      onMessage(event.data);
    };
    next.onclose = () => drop(next);
    next.onerror = () => drop(next);
  };

  connect();
  return {
    state: () => state,
    retryNow() {
      if (closed || socket) return;
      if (retryTimer !== undefined) clearTimer(retryTimer);
      retryTimer = undefined;
      connect();
    },
    close() {
      closed = true;
      if (retryTimer !== undefined) clearTimer(retryTimer);
      stopPinging();
      const current = socket;
      socket = undefined;
      if (current) {
        current.onopen = current.onmessage = current.onclose = current.onerror = null;
        current.close(NORMAL_CLOSURE, "page closed");
      }
    },
  };
}
