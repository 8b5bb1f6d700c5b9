import type { BetEvent } from "../../common/contracts/bet-event.ts";
import type { Grid } from "../../common/contracts/grid.ts";
import type { PriceMessage, Tick } from "../../common/contracts/price.ts";
import { reconnectDelay } from "./backoff.ts";

/** Where a tick came from, when its message says: `mock` (simulated) or `venues` (the exchanges' index, from `venues` of them). */
export type PriceOrigin = Pick<PriceMessage, "source" | "venues">;

/** What the page shows about the websocket; the text of `data-testid="conn"`. */
export type ConnState = "live" | "reconnecting" | "offline";

/** The part of the browser's `WebSocket` the feed uses, so a test can hand it a fake. */
export interface SocketLike {
  readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface PriceFeedOptions {
  url: string;
  /** Each price, with where it came from (empty when the message does not say, as the snapshot on connect may not). */
  onTick: (tick: Tick, origin: PriceOrigin) => void;
  onState: (state: ConnState) => void;
  /** The priced grid from the `grid` channel; when given, the feed subscribes to it on every connection. */
  onGrid?: (grid: Grid) => void;
  /** Each (re)connection, once the server has sent something: the moment to fill a gap in history. */
  onResumed?: () => void;
  /** A pong: for the server clock. */
  onPong?: (sentAt: number, serverTs: number, receivedAt: number) => void;
  /**
   * The session token to prove on every (re)connection (`auth`), once it is known; when given, the
   * connection also carries this player's `bet` events.
   */
  authToken?: () => Promise<string>;
  /** The server took the token: `bet` events follow. */
  onAuthed?: (userId: string) => void;
  /**
   * The server refused `token`, or it expired while the connection was open (close code 4001 or
   * 4002 follows, and the feed reconnects, proving the token `authToken` gives then).
   */
  onUnauthorized?: (token: string) => void;
  /** One of this player's bets was accepted (perhaps on another device) or settled. */
  onBet?: (event: BetEvent) => void;
  openSocket?: (url: string) => SocketLike;
  /** Local clock, ms. */
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
  random?: () => number;
  isOnline?: () => boolean;
  /** A ping goes out this often; a socket silent for `deadAfterMs` is closed and replaced. */
  pingEveryMs?: number;
  deadAfterMs?: number;
  /** After this many failed attempts in a row the state reads `offline` (it keeps retrying). */
  offlineAfterFailures?: number;
}

export interface PriceFeed {
  state(): ConnState;
  /** Retry now instead of waiting out the backoff (the browser came back online, the tab became visible). */
  retryNow(): void;
  close(): void;
}

const OPEN = 1;

/** Reads a server message; anything that is not a well-formed price or pong is ignored. */
function readServerMessage(
  data: unknown,
):
  | { type: "price"; tick: Tick; origin: PriceOrigin }
  | { type: "grid"; grid: Grid }
  | { type: "pong"; ts: number }
  | BetEvent
  | { type: "authed"; user_id: string }
  | { type: "error"; code: string }
  | undefined {
  if (typeof data !== "string") return undefined;
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof message !== "object" || message === null) return undefined;
  const m = message as Record<string, unknown>;
  if (m.type === "price" && m.symbol === "BTC-USD" && typeof m.price === "number" && m.price > 0 && Number.isInteger(m.ts)) {
    const origin: PriceOrigin = {};
    if (m.source === "mock" || m.source === "venues") origin.source = m.source;
    if (Number.isInteger(m.venues) && (m.venues as number) >= 0) origin.venues = m.venues as number;
    return { type: "price", tick: { symbol: "BTC-USD", price: m.price, ts: m.ts as number }, origin };
  }
  if (m.type === "pong" && typeof m.ts === "number") return { type: "pong", ts: m.ts };
  if (m.type === "grid" && isGrid(m.grid)) return { type: "grid", grid: m.grid };
  if (m.type === "bet" && isBetEvent(m)) return { type: "bet", bet_id: m.bet_id, status: m.status, payout: m.payout, balance: m.balance };
  if (m.type === "authed" && typeof m.user_id === "string") return { type: "authed", user_id: m.user_id };
  if (m.type === "error" && typeof m.code === "string") return { type: "error", code: m.code };
  return undefined;
}

/** Enough of a grid's shape to draw it; the server is trusted for the rest. */
function isGrid(value: unknown): value is Grid {
  if (typeof value !== "object" || value === null) return false;
  const g = value as Record<string, unknown>;
  return Array.isArray(g.cells) && typeof g.column_ms === "number" && typeof g.band === "number" && typeof g.lock_ms === "number" && typeof g.ts === "number";
}

const BET_STATUSES = new Set(["accepted", "won", "lost", "void"]);

function isBetEvent(m: Record<string, unknown>): m is BetEvent {
  return typeof m.bet_id === "string" && typeof m.status === "string" && BET_STATUSES.has(m.status) && typeof m.payout === "number" && typeof m.balance === "number";
}

/**
 * Keeps one websocket to `/ws` open for as long as the page lives: subscribes
 * to prices on every (re)connection, pings to find a dead connection that never
 * closed, and reconnects by itself with backoff and jitter. The state it reports
 * is `live` while a socket is open, `reconnecting` while it tries, and `offline`
 * when the browser is offline or several attempts in a row failed.
 *
 * ```ts
 * const feed = connectPriceFeed({ url: "wss://example.test/ws", onTick: show, onState: showState });
 * ```
 */
export function connectPriceFeed(options: PriceFeedOptions): PriceFeed {
  const {
    url,
    onTick,
    onState,
    onGrid,
    onResumed = () => {},
    onPong = () => {},
    authToken,
    onAuthed = () => {},
    onUnauthorized = () => {},
    onBet = () => {},
    openSocket = (target) => new WebSocket(target) as unknown as SocketLike,
    now = Date.now,
    setTimer = (fn, ms) => setTimeout(fn, ms),
    clearTimer = (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
    random = Math.random,
    isOnline = () => true,
    pingEveryMs = 5000,
    deadAfterMs = 12_000,
    offlineAfterFailures = 4,
  } = options;

  let socket: SocketLike | undefined;
  let state: ConnState = "reconnecting";
  let failures = 0;
  let closed = false;
  let retryTimer: unknown;
  let pingTimer: unknown;
  let lastHeardAt = 0;
  let heardSinceOpen = false;
  /** The token the current socket sent in `auth`. */
  let sentToken: string | undefined;
  const pingsInFlight = new Map<number, number>();

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
    const sentAt = now();
    pingsInFlight.set(sentAt, sentAt);
    socket.send(JSON.stringify({ type: "ping" }));
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
    pingsInFlight.clear();
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
    sentToken = undefined;
    next.onopen = () => {
      lastHeardAt = now();
      next.send(JSON.stringify({ type: "subscribe", channel: "prices" }));
      if (onGrid) next.send(JSON.stringify({ type: "subscribe", channel: "grid" }));
      if (authToken) {
        authToken().then(
          (token) => {
            // The token may come after this socket is gone; the next one sends its own.
            if (socket !== next || next.readyState !== OPEN) return;
            sentToken = token;
            next.send(JSON.stringify({ type: "auth", token }));
          },
          () => {
            // No session yet (the API is down): prices still flow; the next connection tries again.
          },
        );
      }
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
      const message = readServerMessage(event.data);
      if (message?.type === "price") onTick(message.tick, message.origin);
      else if (message?.type === "grid") onGrid?.(message.grid);
      else if (message?.type === "bet") onBet(message);
      else if (message?.type === "authed") onAuthed(message.user_id);
      else if (message?.type === "error" && (message.code === "unauthorized" || message.code === "session_expired") && sentToken !== undefined) onUnauthorized(sentToken);
      else if (message?.type === "pong") {
        // Pongs come back in order: the oldest ping in flight is the one answered.
        const first = pingsInFlight.keys().next();
        if (!first.done) {
          pingsInFlight.delete(first.value);
          onPong(first.value, message.ts, now());
        }
      }
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
        current.close(1000, "page closed");
      }
    },
  };
}
