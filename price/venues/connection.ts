import type { Logger } from "../../common/log.ts";
import type { VenueProtocol, VenueQuote } from "./protocol.ts";

/**
 * Where a venue's connection is: `live` while its quotes are fresh.
 *
 * ```ts
 * feed.state(); // "connecting" until the first quote, then "live" while quotes are fresh
 * ```
 */
export type VenueState = "connecting" | "live" | "stale" | "down";

/**
 * A connection's state and counters, as `/healthz` shows them.
 *
 * ```ts
 * const stats: VenueConnectionStats = { state: "live", age_ms: 120, reconnects: 0, dropped: 0, gaps: 0, quotes: 42 };
 * ```
 */
export interface VenueConnectionStats {
  state: VenueState;
  /** Age of the last quote, ms; null before the first. */
  age_ms: number | null;
  /** Connections opened after the first. */
  reconnects: number;
  /** Frames that did not parse (or were not text), and messages older than one already read. */
  dropped: number;
  /** Times the venue's own ids showed that messages were missed (Coinbase's heartbeat against its tickers). */
  gaps: number;
  quotes: number;
}

/**
 * What `connectVenue` takes: the venue's protocol, where its quotes go, and
 * (for tests and recording) the clock, the jitter, the WebSocket class and hooks.
 *
 * ```ts
 * const options: VenueConnectionOptions = { protocol: kraken, onQuote: (quote) => quotes.push(quote), staleMs: 2000, log };
 * ```
 */
export interface VenueConnectionOptions {
  protocol: VenueProtocol;
  /** The websocket URL; the protocol's documented one by default. */
  url?: string;
  onQuote(quote: VenueQuote): void;
  /** A quote older than this makes the venue `stale`. */
  staleMs: number;
  log: Logger;
  now?: () => number;
  /** Uniform in [0, 1), for the backoff's jitter. */
  random?: () => number;
  /** The WebSocket class (Bun's by default). */
  WebSocketClass?: typeof WebSocket;
  /** Sees each connection open and each text frame before it is parsed, with the time its adapter is given (recording). */
  onOpen?(at: number): void;
  onFrame?(text: string, receivedAt: number): void;
}

/**
 * One venue's feed, kept open by `connectVenue` until closed.
 *
 * ```ts
 * const feed: VenueConnection = connectVenue({ protocol: kraken, onQuote, staleMs: 2000, log });
 * feed.close();
 * ```
 */
export interface VenueConnection {
  state(): VenueState;
  stats(): VenueConnectionStats;
  /** Closes the socket and stops reconnecting. */
  close(): void;
}

/** At most one warning of a kind (dropped frames, gaps) this often, with the count since the last. */
const WARN_EVERY_MS = 10_000;

/** A connection that stayed open this long was healthy: the next failure starts the backoff again from its base. */
const HEALTHY_AFTER_MS = 30_000;

/**
 * Keeps one venue's feed open for as long as the service runs: opens the
 * socket, sends the protocol's subscribe frames, answers its pings and sends
 * its keep-alives, and hands every quote to `onQuote`. A close, an error, a
 * refused subscribe, the venue's request to reconnect, or silence (no frame
 * for `protocol.silenceMs`) reopens it after `baseMs × 2^attempt` with jitter,
 * capped at `capMs`; the backoff starts again only after a connection that
 * stayed open for a while, so a venue that accepts and drops at once is not
 * hammered (Kraken bans an address past ~150 connections in 10 minutes). A
 * frame that does not parse is dropped and counted, never thrown; so is one the
 * adapter finds out of order. A gap the adapter finds in the venue's ids is
 * counted and logged (at most one warning per 10 s, with the count since the
 * last); the quotes go on.
 *
 * ```ts
 * const feed = connectVenue({ protocol: createCoinbaseProtocol(), onQuote: (q) => index.observe(q), staleMs: 2000, log });
 * feed.stats(); // { state: "live", age_ms: 120, reconnects: 0, dropped: 0, gaps: 0, quotes: 42 }
 * ```
 */
export function connectVenue({
  protocol,
  url = protocol.url,
  onQuote,
  staleMs,
  log,
  now = Date.now,
  random = Math.random,
  WebSocketClass = WebSocket,
  onOpen: seeOpen,
  onFrame: seeFrame,
}: VenueConnectionOptions): VenueConnection {
  const venue = protocol.name;
  let socket: WebSocket | undefined;
  let closed = false;
  let open = false;
  let attempt = 0;
  let opens = 0;
  let openedAt = 0;
  let lastFrameAt = 0;
  let lastQuoteAt: number | undefined;
  let quotes = 0;
  let dropped = 0;
  let droppedSinceWarning = 0;
  let lastDropWarning = Number.NEGATIVE_INFINITY;
  let gaps = 0;
  let gapsSinceWarning = 0;
  let lastGapWarning = Number.NEGATIVE_INFINITY;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let keepAliveTimer: ReturnType<typeof setInterval> | undefined;

  const drop = (reason: string, sample: string) => {
    dropped++;
    droppedSinceWarning++;
    const at = now();
    if (at - lastDropWarning < WARN_EVERY_MS) return;
    log.warn({ venue, reason, sample: sample.slice(0, 160), dropped: droppedSinceWarning, dropped_total: dropped }, "dropped a venue frame");
    lastDropWarning = at;
    droppedSinceWarning = 0;
  };

  const gap = (reason: string) => {
    gaps++;
    gapsSinceWarning++;
    const at = now();
    if (at - lastGapWarning < WARN_EVERY_MS) return;
    log.warn({ venue, reason, gaps: gapsSinceWarning, gaps_total: gaps }, "the venue's ids show missed messages");
    lastGapWarning = at;
    gapsSinceWarning = 0;
  };

  const stopTimers = () => {
    if (keepAliveTimer) clearInterval(keepAliveTimer);
    keepAliveTimer = undefined;
  };

  /** Drops the socket (if any) and schedules the next attempt. */
  const reconnect = (why: string) => {
    stopTimers();
    const current = socket;
    // Only the connection that just ended can prove health: a later attempt that never opened must not inherit it.
    const healthy = open && now() - openedAt >= HEALTHY_AFTER_MS;
    socket = undefined;
    open = false;
    if (current) {
      current.onopen = current.onmessage = current.onclose = current.onerror = null;
      try {
        current.close();
      } catch {
        // Already closing.
      }
    }
    if (closed || retryTimer) return;
    if (healthy) attempt = 0;
    const ceiling = Math.min(protocol.backoff.capMs, protocol.backoff.baseMs * 2 ** attempt);
    // Half fixed, half random: spread out, never sooner than half the step.
    const delay = Math.round(ceiling / 2 + (ceiling / 2) * random());
    attempt++;
    log.warn({ venue, why, retry_in_ms: delay, attempt }, "venue connection lost; reconnecting");
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect();
    }, delay);
  };

  const send = (frame: string) => {
    try {
      socket?.send(frame);
    } catch (error) {
      reconnect(`send failed: ${(error as Error).message}`);
    }
  };

  const onFrame = (data: unknown) => {
    const at = now();
    lastFrameAt = at;
    if (typeof data !== "string") {
      drop("not a text frame", String(data));
      return;
    }
    seeFrame?.(data, at);
    for (const event of protocol.parse(data, at)) {
      switch (event.kind) {
        case "quote":
          quotes++;
          lastQuoteAt = at;
          onQuote(event.quote);
          break;
        case "ping":
          send(event.reply);
          break;
        case "subscribed":
          log.info({ venue }, "venue subscription confirmed");
          break;
        case "reconnect":
          reconnect(`the venue asked: ${event.reason}`);
          return;
        case "refused":
          log.warn({ venue, reason: event.reason }, "the venue refused");
          reconnect(`refused: ${event.reason}`);
          return;
        case "invalid":
        case "outdated":
          drop(event.reason, data);
          break;
        case "gap":
          gap(event.reason);
          break;
        case "alive":
        case "ignored":
          break;
        default: {
          const unknown: never = event;
          drop(`unknown event ${JSON.stringify(unknown)}`, data);
        }
      }
    }
  };

  const connect = () => {
    if (closed) return;
    if (opens > 0) log.info({ venue, url, attempt }, "reopening the venue connection");
    opens++;
    lastFrameAt = now();
    let ws: WebSocket;
    try {
      ws = new WebSocketClass(url);
    } catch (error) {
      reconnect(`cannot open: ${(error as Error).message}`);
      return;
    }
    socket = ws;
    ws.onopen = () => {
      open = true;
      openedAt = now();
      lastFrameAt = openedAt;
      seeOpen?.(openedAt);
      log.info({ venue, url }, "venue connected");
      for (const frame of protocol.subscribe()) send(frame);
      const keepAlive = protocol.keepAlive;
      if (keepAlive) keepAliveTimer = setInterval(() => send(keepAlive.message(now())), keepAlive.everyMs);
    };
    ws.onmessage = (event) => onFrame(event.data);
    ws.onerror = () => reconnect("socket error");
    ws.onclose = (event) => reconnect(`closed ${event.code}${event.reason ? ` ${event.reason}` : ""}`);
  };

  // Silence: a socket that is open but says nothing is as dead as a closed one.
  const watchdog = setInterval(() => {
    if (socket && now() - lastFrameAt > protocol.silenceMs) reconnect(`silent for ${protocol.silenceMs} ms`);
  }, Math.max(50, Math.min(1000, Math.floor(protocol.silenceMs / 4))));

  connect();

  const state = (): VenueState => {
    if (!socket) return "down";
    if (!open || lastQuoteAt === undefined || lastQuoteAt < openedAt) return "connecting";
    return now() - lastQuoteAt <= staleMs ? "live" : "stale";
  };

  return {
    state,
    stats: () => ({ state: state(), age_ms: lastQuoteAt === undefined ? null : now() - lastQuoteAt, reconnects: Math.max(0, opens - 1), dropped, gaps, quotes }),
    close() {
      closed = true;
      clearInterval(watchdog);
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
      stopTimers();
      const current = socket;
      socket = undefined;
      if (current) {
        current.onopen = current.onmessage = current.onclose = current.onerror = null;
        current.close();
      }
    },
  };
}
