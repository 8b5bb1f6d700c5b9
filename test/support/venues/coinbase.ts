/**
 * A Coinbase Exchange double: the public websocket feed's protocol (Coinbase
 * Developer Platform, "Exchange WebSocket Overview" / "Exchange WebSocket
 * Channels") on a local websocket server. It reads `subscribe` as Coinbase
 * does (channels as names or `{name, product_ids}`, products at the top level
 * or per channel), answers with `subscriptions` listing what the connection now
 * has, or with `{"type":"error"}` when refused, and serves `ticker`,
 * `ticker_batch`, `match` and `heartbeat` messages to the connections subscribed
 * to them. Coinbase sends nothing on connect and never pings at the
 * application level.
 *
 * Its ids are the product's, as Coinbase's are: one `sequence` that every
 * message moves on and one trade id that every ticker, ticker_batch and match
 * moves on, the same for every connection; a heartbeat carries the current
 * two (so a trade served on one channel only is, to a client of another, a
 * trade it missed). Faults in those ids on demand: `missTicker()` (a trade whose ticker
 * never arrives, so the next heartbeat's `last_trade_id` skips ahead) and
 * `lateTicker()` (a ticker older than the last one sent).
 */
import { type DoubleClient, startVenueDouble } from "../venue-double.ts";
import type { DoubleQuote, DoubleQuoteSent, DoubleSubscription, VenueDoubleApi, VenueDoubleApiOptions } from "./double-api.ts";

const PRODUCTS = new Set(["BTC-USD", "ETH-USD", "BTC-EUR"]);
const CHANNELS = new Set(["ticker", "ticker_batch", "heartbeat", "matches", "level2_batch", "status"]);

interface Session {
  connection: number;
  /** channel → products */
  channels: Map<string, Set<string>>;
}

export interface CoinbaseDouble extends VenueDoubleApi {
  /** A `ticker_batch` message (same schema as `ticker`) to connections subscribed to that channel. */
  tickerBatch(quote: DoubleQuote): DoubleQuoteSent;
  /** A `match` (a trade) to connections subscribed to `matches`. */
  match(price: number, ts?: number): void;
  /**
   * A trade whose ticker is lost on the way: the sequence and trade id move on
   * and nothing is sent, so the next `heartbeat()` shows a `last_trade_id` ahead
   * of the last ticker's `trade_id`. Returns the trade id skipped.
   */
  missTicker(): number;
  /**
   * A ticker that arrives after a newer one: it carries the sequence and trade
   * id just before the last ticker's (the double's ids do not move).
   */
  lateTicker(quote: DoubleQuote): DoubleQuoteSent;
}

/** Coinbase stamps in RFC 3339 with microseconds. */
const coinbaseTime = (ms: number) => new Date(ms).toISOString().replace("Z", "000Z");

/**
 * Starts a Coinbase Exchange double on 127.0.0.1.
 *
 * ```ts
 * await using double = await startCoinbaseDouble({ subscribeWithinMs: 5000 });
 * connectVenue({ protocol: createCoinbaseProtocol(), url: double.url, … });
 * double.quote({ bid: 64210.01, ask: 64210.56, last: 64210.55 });
 * ```
 */
export async function startCoinbaseDouble({ heartbeatEveryMs, subscribeWithinMs }: VenueDoubleApiOptions = {}): Promise<CoinbaseDouble> {
  const sessions = new Map<DoubleClient, Session>();
  const subscriptions: DoubleSubscription[] = [];
  const unrecognised: string[] = [];
  let accepted = 0;
  let refuseNext = false;
  let sequence = 37_475_248_783;
  let tradeId = 370_843_401;

  const onSubscribe = (client: DoubleClient, session: Session, text: string, message: Record<string, unknown>) => {
    // Products at the top level apply to every channel given by name only.
    const topProducts = Array.isArray(message.product_ids) ? message.product_ids.filter((id): id is string => typeof id === "string") : [];
    const wanted = new Map<string, string[]>();
    const channels = Array.isArray(message.channels) ? message.channels : [];
    for (const channel of channels) {
      if (typeof channel === "string") wanted.set(channel, topProducts);
      else if (typeof channel === "object" && channel !== null && typeof (channel as { name?: unknown }).name === "string") {
        const { name, product_ids } = channel as { name: string; product_ids?: unknown };
        wanted.set(name, Array.isArray(product_ids) ? product_ids.filter((id): id is string => typeof id === "string") : topProducts);
      }
    }
    const symbols = [...new Set([...wanted.values()].flat())];
    const bad = wanted.size === 0 ? "no channels" : [...wanted].find(([name, products]) => !CHANNELS.has(name) || (name !== "status" && (products.length === 0 || products.some((p) => !PRODUCTS.has(p)))));
    const refused = refuseNext || bad !== undefined;
    refuseNext = false;
    subscriptions.push({ connection: session.connection, channels: [...wanted.keys()], symbols, accepted: !refused, frame: text });
    if (refused) {
      const reason = bad === undefined ? "refused by the test" : typeof bad === "string" ? bad : `${bad[0]} ${bad[1].join(",")} is not a valid channel/product`;
      client.send(JSON.stringify({ type: "error", message: "Failed to subscribe", reason }));
      return;
    }
    for (const [name, products] of wanted) {
      const current = session.channels.get(name) ?? new Set<string>();
      for (const product of products) current.add(product);
      session.channels.set(name, current);
    }
    client.send(JSON.stringify({ type: "subscriptions", channels: [...session.channels].map(([name, products]) => ({ name, product_ids: [...products] })) }));
  };

  const inner = await startVenueDouble({
    onOpen(client) {
      const session: Session = { connection: ++accepted, channels: new Map() };
      sessions.set(client, session);
      if (subscribeWithinMs !== undefined) inner.closeUnlessSubscribed(client, subscribeWithinMs, () => session.channels.size > 0, "subscribe within 5 seconds");
    },
    onMessage(client, text) {
      const session = sessions.get(client);
      if (!session) return;
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        unrecognised.push(text);
        client.send(JSON.stringify({ type: "error", message: "Failed to parse message" }));
        return;
      }
      if (typeof message === "object" && message !== null && (message as { type?: unknown }).type === "subscribe") {
        onSubscribe(client, session, text, message as Record<string, unknown>);
        return;
      }
      unrecognised.push(text);
      client.send(JSON.stringify({ type: "error", message: "Failed to parse message" }));
    },
  });

  /** Sends `frame` to every connection subscribed to `channel` for BTC-USD: one message, the same ids for all. */
  const toSubscribed = (channel: string, frame: string) => {
    for (const client of inner.clients) {
      if (sessions.get(client)?.channels.get(channel)?.has("BTC-USD")) client.send(frame);
    }
  };

  /** The last ticker's ids, for `lateTicker`. */
  let lastTicker: { sequence: number; tradeId: number } | undefined;

  const tickerFrame = (type: "ticker" | "ticker_batch", { bid, ask, last, ts = Date.now() }: DoubleQuote, ids = { sequence: ++sequence, tradeId: ++tradeId }) =>
    JSON.stringify({
      type,
      sequence: ids.sequence,
      product_id: "BTC-USD",
      price: String(last ?? (bid + ask) / 2),
      open_24h: "63001.10",
      volume_24h: "11532.79269678",
      low_24h: "62800.52",
      high_24h: "64500.8",
      volume_30d: "388783.60117027",
      best_bid: String(bid),
      best_bid_size: "0.46688654",
      best_ask: String(ask),
      best_ask_size: "1.56637040",
      side: "buy",
      time: coinbaseTime(ts),
      trade_id: ids.tradeId,
      last_size: "0.0396987",
    });

  const heartbeatTimer = heartbeatEveryMs === undefined ? undefined : setInterval(() => double.heartbeat(), heartbeatEveryMs);

  const double: CoinbaseDouble = {
    url: inner.url,
    get clients() {
      return inner.clients;
    },
    get connections() {
      return inner.connections;
    },
    subscriptions,
    unrecognised,
    quote(quote) {
      const ts = quote.ts ?? Date.now();
      toSubscribed("ticker", tickerFrame("ticker", { ...quote, ts }));
      lastTicker = { sequence, tradeId };
      return { venueTs: ts, frames: 1 };
    },
    missTicker() {
      sequence++;
      return ++tradeId;
    },
    lateTicker(quote) {
      const ts = quote.ts ?? Date.now();
      const before = lastTicker ?? { sequence, tradeId };
      toSubscribed("ticker", tickerFrame("ticker", { ...quote, ts }, { sequence: before.sequence - 1, tradeId: before.tradeId - 1 }));
      return { venueTs: ts, frames: 1 };
    },
    tickerBatch(quote) {
      const ts = quote.ts ?? Date.now();
      toSubscribed("ticker_batch", tickerFrame("ticker_batch", { ...quote, ts }));
      return { venueTs: ts, frames: 1 };
    },
    match(price, ts = Date.now()) {
      const frame = JSON.stringify({
        type: "match",
        trade_id: ++tradeId,
        sequence: ++sequence,
        maker_order_id: "ac928c66-ca53-498f-9c13-a110027a60e8",
        taker_order_id: "132fb6ae-456b-4654-b4e0-d681ac05cea1",
        time: coinbaseTime(ts),
        product_id: "BTC-USD",
        size: "0.01",
        price: String(price),
        side: "sell",
      });
      toSubscribed("matches", frame);
    },
    heartbeat() {
      // Shaped like the docs' example: the product's current sequence and its last trade's id.
      toSubscribed("heartbeat", JSON.stringify({ type: "heartbeat", sequence, last_trade_id: tradeId, product_id: "BTC-USD", time: coinbaseTime(Date.now()) }));
    },
    malformed() {
      const frames = [
        '{"type":"ticker","product_id":"BTC-USD","price":',
        JSON.stringify({ type: "ticker", sequence: ++sequence, product_id: "BTC-USD", price: "abc", best_bid: "n/a", best_ask: "64210.56", time: coinbaseTime(Date.now()) }),
      ];
      for (const client of inner.clients) {
        if (sessions.get(client)?.channels.size) for (const frame of frames) client.send(frame);
      }
      return frames.length;
    },
    refuseNextSubscribe() {
      refuseNext = true;
    },
    keepAlivesReceived: 0,
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
