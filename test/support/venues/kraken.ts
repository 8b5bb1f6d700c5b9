/**
 * A Kraken WebSocket v2 double (Kraken API docs, "Spot WebSocket v2": status,
 * ticker, trade, heartbeat, ping) on a local websocket server. It sends the
 * `status` message on connect, reads `{"method":"subscribe","params":{channel,
 * symbol[]}}` and acknowledges each symbol with `success: true` (or `false` and
 * an `error` when refused), answers `{"method":"ping"}` with a pong, and serves
 * `ticker` (a snapshot first, then updates), `trade` and `heartbeat` to the
 * connections subscribed.
 */
import { type DoubleClient, startVenueDouble } from "../venue-double.ts";
import type { DoubleQuote, DoubleQuoteSent, DoubleSubscription, VenueDoubleApi, VenueDoubleApiOptions } from "./double-api.ts";

const SYMBOLS = new Set(["BTC/USD", "ETH/USD", "BTC/EUR"]);
const CHANNELS = new Set(["ticker", "trade", "book"]);

interface Session {
  connection: number;
  /** channel → symbols */
  channels: Map<string, Set<string>>;
  /** Channels that had their snapshot. */
  snapshots: Set<string>;
}

export interface KrakenDouble extends VenueDoubleApi {
  /** A `trade` update to connections subscribed to `trade`. */
  trade(price: number, ts?: number): void;
}

const krakenTime = (ms: number) => new Date(ms).toISOString().replace("Z", "000Z");

/**
 * Starts a Kraken v2 double on 127.0.0.1.
 *
 * ```ts
 * await using double = await startKrakenDouble({ heartbeatEveryMs: 1000 });
 * connectVenue({ protocol: kraken, url: double.url, … });
 * double.quote({ bid: 64210.1, ask: 64210.2, last: 64210.2 });
 * ```
 */
export async function startKrakenDouble({ heartbeatEveryMs, subscribeWithinMs }: VenueDoubleApiOptions = {}): Promise<KrakenDouble> {
  const sessions = new Map<DoubleClient, Session>();
  const subscriptions: DoubleSubscription[] = [];
  const unrecognised: string[] = [];
  let accepted = 0;
  let refuseNext = false;
  let keepAlivesReceived = 0;
  let tradeId = 4_665_846;

  const stamps = () => {
    const now = krakenTime(Date.now());
    return { time_in: now, time_out: now };
  };

  const onSubscribe = (client: DoubleClient, session: Session, text: string, message: Record<string, unknown>) => {
    const params = (typeof message.params === "object" && message.params !== null ? message.params : {}) as Record<string, unknown>;
    const channel = typeof params.channel === "string" ? params.channel : "";
    const symbols = Array.isArray(params.symbol) ? params.symbol.filter((s): s is string => typeof s === "string") : [];
    const reqId = typeof message.req_id === "number" ? { req_id: message.req_id } : {};
    const refusedByTest = refuseNext;
    refuseNext = false;
    const error = refusedByTest
      ? "Subscription refused by the test"
      : !CHANNELS.has(channel)
        ? `Channel ${JSON.stringify(channel)} not found`
        : symbols.length === 0
          ? "Symbol list required"
          : undefined;
    subscriptions.push({ connection: session.connection, channels: channel ? [channel] : [], symbols, accepted: error === undefined && symbols.every((symbol) => SYMBOLS.has(symbol)), frame: text });
    if (error !== undefined) {
      client.send(JSON.stringify({ error, method: "subscribe", success: false, ...(symbols[0] ? { symbol: symbols[0] } : {}), ...stamps(), ...reqId }));
      return;
    }
    for (const symbol of symbols) {
      if (!SYMBOLS.has(symbol)) {
        client.send(JSON.stringify({ error: "Currency pair not supported", method: "subscribe", success: false, symbol, ...stamps(), ...reqId }));
        continue;
      }
      const current = session.channels.get(channel) ?? new Set<string>();
      current.add(symbol);
      session.channels.set(channel, current);
      const result: Record<string, unknown> = { channel, symbol, snapshot: params.snapshot !== false };
      if (channel === "ticker") result.event_trigger = params.event_trigger === "bbo" ? "bbo" : "trades";
      client.send(JSON.stringify({ method: "subscribe", result, success: true, ...stamps(), ...reqId }));
    }
  };

  const inner = await startVenueDouble({
    onOpen(client) {
      const session: Session = { connection: ++accepted, channels: new Map(), snapshots: new Set() };
      sessions.set(client, session);
      client.send(JSON.stringify({ channel: "status", type: "update", data: [{ version: "2.0.0", system: "online", api_version: "v2", connection_id: 12393906104898154000 + session.connection }] }));
      if (subscribeWithinMs !== undefined) inner.closeUnlessSubscribed(client, subscribeWithinMs, () => session.channels.size > 0, "no subscription");
    },
    onMessage(client, text) {
      const session = sessions.get(client);
      if (!session) return;
      let message: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) message = parsed as Record<string, unknown>;
      } catch {
        // Not JSON: answered below as Kraken does.
      }
      if (message?.method === "subscribe") {
        onSubscribe(client, session, text, message);
        return;
      }
      if (message?.method === "ping") {
        keepAlivesReceived++;
        client.send(JSON.stringify({ method: "pong", ...(typeof message.req_id === "number" ? { req_id: message.req_id } : {}), ...stamps() }));
        return;
      }
      unrecognised.push(text);
      client.send(JSON.stringify({ error: message ? "Method not found" : "Malformed request", success: false, ...stamps() }));
    },
  });

  /** Sends `frame(type)` to every connection subscribed to `channel` for BTC/USD; the first one is the snapshot. */
  const toSubscribed = (channel: string, frame: (type: "snapshot" | "update") => string) => {
    for (const client of inner.clients) {
      const session = sessions.get(client);
      if (!session?.channels.get(channel)?.has("BTC/USD")) continue;
      const type = session.snapshots.has(channel) ? "update" : "snapshot";
      session.snapshots.add(channel);
      client.send(frame(type));
    }
  };

  const heartbeatTimer = heartbeatEveryMs === undefined ? undefined : setInterval(() => double.heartbeat(), heartbeatEveryMs);

  const double: KrakenDouble = {
    url: inner.url,
    get clients() {
      return inner.clients;
    },
    get connections() {
      return inner.connections;
    },
    subscriptions,
    unrecognised,
    quote({ bid, ask, last, ts = Date.now() }): DoubleQuoteSent {
      const entry = {
        symbol: "BTC/USD",
        bid,
        bid_qty: 0.5,
        ask,
        ask_qty: 1.36144813,
        last: last ?? (bid + ask) / 2,
        volume: 997.03898383,
        vwap: 63950.4,
        low: 62979.1,
        high: 64285.0,
        change: 1017.3,
        change_pct: 1.61,
        timestamp: krakenTime(ts),
      };
      toSubscribed("ticker", (type) => JSON.stringify({ channel: "ticker", type, data: [entry] }));
      return { venueTs: ts, frames: 1 };
    },
    trade(price, ts = Date.now()) {
      const data = [{ symbol: "BTC/USD", side: "buy", price, qty: 0.01, ord_type: "market", trade_id: ++tradeId, timestamp: krakenTime(ts) }];
      toSubscribed("trade", (type) => JSON.stringify({ channel: "trade", type, data }));
    },
    heartbeat() {
      // Kraken sends heartbeats once anything is subscribed.
      for (const client of inner.clients) if (sessions.get(client)?.channels.size) client.send(JSON.stringify({ channel: "heartbeat" }));
    },
    malformed() {
      const frames = [
        '{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":',
        JSON.stringify({ channel: "ticker", type: "update", data: [{ symbol: "BTC/USD", bid: "abc", ask: 64210.2, last: 64210.2, timestamp: krakenTime(Date.now()) }] }),
      ];
      for (const client of inner.clients) {
        if (sessions.get(client)?.channels.size) for (const frame of frames) client.send(frame);
      }
      return frames.length;
    },
    refuseNextSubscribe() {
      refuseNext = true;
    },
    get keepAlivesReceived() {
      return keepAlivesReceived;
    },
    // Kraken v2 never pings its clients at the application level.
    pongsReceived: 0,
    get silent() {
      return inner.silent;
    },
    set silent(value: boolean) {
      inner.silent = value;
    },
    dropAll() {
      inner.dropAll();
    },
    async stop() {
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      await inner.stop();
    },
    async [Symbol.asyncDispose]() {
      await double.stop();
    },
  };
  return double;
}
