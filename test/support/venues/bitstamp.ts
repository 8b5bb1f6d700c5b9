/**
 * A Bitstamp double: the "Websocket API v2" protocol (bitstamp.net/websocket/v2)
 * on a local websocket server. It acknowledges each `bts:subscribe` of a
 * well-formed channel with `bts:subscription_succeeded`, answers the client's
 * `bts:heartbeat`, and answers what Bitstamp would not read with its
 * `bts:error` ("Incorrect JSON format.", "Bad subscription string.",
 * "Invalid channel provided.").
 */
import { type DoubleClient, startVenueDouble } from "../venue-double.ts";
import type { DoubleQuote, DoubleQuoteSent, DoubleSubscription, VenueDoubleApi, VenueDoubleApiOptions } from "./double-api.ts";

const frame = (value: unknown) => JSON.stringify(value);
const error = (message: string) => frame({ event: "bts:error", channel: "", data: { code: null, message } });
/** Public channels take `<name>_<market>`, the market in lower case (`btcusd`, `btcusd-perp`). */
const CHANNEL = /^(live_trades|live_orders|order_book|detail_order_book|diff_order_book)_([a-z0-9]+(?:-perp)?)$/;

interface Session {
  connection: number;
  channels: Set<string>;
}

export interface BitstampDouble extends VenueDoubleApi {
  requestReconnect(): void;
}

/**
 * Starts a Bitstamp double on 127.0.0.1.
 *
 * ```ts
 * await using double = await startBitstampDouble();
 * connectVenue({ protocol: bitstamp, url: double.url, … });
 * double.quote({ bid: 77188, ask: 77189, last: 77188.5 }); // a book frame and a trade
 * ```
 */
export async function startBitstampDouble({ heartbeatEveryMs, subscribeWithinMs }: VenueDoubleApiOptions = {}): Promise<BitstampDouble> {
  const sessions = new Map<DoubleClient, Session>();
  const subscriptions: DoubleSubscription[] = [];
  const unrecognised: string[] = [];
  let accepted = 0;
  let refuseNext = false;
  let keepAlivesReceived = 0;

  const onSubscribe = (client: DoubleClient, session: Session, text: string, channel: unknown) => {
    if (typeof channel !== "string" || channel === "") {
      unrecognised.push(text);
      client.send(error("Bad subscription string."));
      return;
    }
    const match = CHANNEL.exec(channel);
    const refused = refuseNext || !match;
    refuseNext = false;
    subscriptions.push({ connection: session.connection, channels: [channel], symbols: match?.[2] ? [match[2]] : [], accepted: !refused, frame: text });
    if (refused) {
      client.send(error("Invalid channel provided."));
      return;
    }
    session.channels.add(channel);
    client.send(frame({ event: "bts:subscription_succeeded", channel, data: {} }));
  };

  const inner = await startVenueDouble({
    onOpen(client) {
      const session = { connection: ++accepted, channels: new Set<string>() };
      sessions.set(client, session);
      if (subscribeWithinMs !== undefined) inner.closeUnlessSubscribed(client, subscribeWithinMs, () => session.channels.size > 0, "no subscription");
    },
    onMessage(client, text) {
      const session = sessions.get(client);
      if (!session) return;
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        unrecognised.push(text);
        client.send(error("Incorrect JSON format."));
        return;
      }
      const { event, data } = (typeof message === "object" && message !== null ? message : {}) as { event?: unknown; data?: { channel?: unknown } };
      switch (event) {
        case "bts:subscribe":
          onSubscribe(client, session, text, data?.channel);
          return;
        case "bts:unsubscribe":
          if (typeof data?.channel === "string") session.channels.delete(data.channel);
          client.send(frame({ event: "bts:unsubscription_succeeded", channel: data?.channel ?? "", data: {} }));
          return;
        case "bts:heartbeat":
          keepAlivesReceived++;
          client.send(frame({ event: "bts:heartbeat", channel: "", data: { status: "success" } }));
          return;
        default:
          unrecognised.push(text);
          client.send(error("Bad subscription string."));
      }
    },
  });

  /** Sends to every connected client subscribed to `channel`; returns how many. */
  const toSubscribers = (channel: string, text: string) => {
    let sent = 0;
    for (const client of inner.clients) {
      if (!sessions.get(client)?.channels.has(channel)) continue;
      client.send(text);
      sent++;
    }
    return sent;
  };
  const subscribed = () => inner.clients.filter((client) => (sessions.get(client)?.channels.size ?? 0) > 0);
  const heartbeat = () => {
    for (const client of subscribed()) client.send(frame({ event: "bts:heartbeat", channel: "", data: { status: "success" } }));
  };
  const heartbeats = heartbeatEveryMs === undefined ? undefined : setInterval(heartbeat, heartbeatEveryMs);
  const stop = async () => {
    if (heartbeats) clearInterval(heartbeats);
    await inner.stop();
  };

  return {
    get url() {
      return inner.url;
    },
    get clients() {
      return inner.clients;
    },
    get connections() {
      return inner.connections;
    },
    subscriptions,
    unrecognised,
    quote({ bid, ask, last, ts = Date.now() }: DoubleQuote): DoubleQuoteSent {
      const micro = String(Math.round(ts * 1000));
      const seconds = String(Math.floor(ts / 1000));
      // Two levels a side, best first, prices and amounts as strings, as on the wire.
      const level = (price: number, amount: string) => [String(price), amount];
      toSubscribers(
        "order_book_btcusd",
        frame({
          data: { timestamp: seconds, microtimestamp: micro, bids: [level(bid, "0.41122"), level(Math.max(0.01, bid - 5), "0.32386")], asks: [level(ask, "0.41124"), level(ask + 5, "0.32385")] },
          channel: "order_book_btcusd",
          event: "data",
        }),
      );
      if (last === undefined) return { venueTs: ts, frames: 1 };
      toSubscribers(
        "live_trades_btcusd",
        frame({
          data: { id: 212337562, id_str: "212337562", timestamp: seconds, amount: 0.0028, amount_str: "0.00280000", price: last, price_str: String(last), type: 0, microtimestamp: micro, buy_order_id: 1, sell_order_id: 2 },
          channel: "live_trades_btcusd",
          event: "trade",
        }),
      );
      return { venueTs: ts, frames: 2 };
    },
    heartbeat,
    malformed() {
      const bad = [
        "{event: data, not json",
        frame({ data: { timestamp: "1", microtimestamp: "1000000", bids: [["abc", "1"]], asks: [["def", "1"]] }, channel: "order_book_btcusd", event: "data" }),
        frame({ data: { id: 1, price: "NaN", price_str: "NaN", amount: 1, type: 0, timestamp: "1" }, channel: "live_trades_btcusd", event: "trade" }),
        frame({ channel: "order_book_btcusd", data: {} }),
      ];
      for (const client of subscribed()) for (const text of bad) client.send(text);
      return bad.length;
    },
    refuseNextSubscribe() {
      refuseNext = true;
    },
    get keepAlivesReceived() {
      return keepAlivesReceived;
    },
    pongsReceived: 0,
    requestReconnect() {
      for (const client of inner.clients) client.send(frame({ event: "bts:request_reconnect", channel: "", data: null }));
    },
    get silent() {
      return inner.silent;
    },
    set silent(value: boolean) {
      inner.silent = value;
    },
    dropAll: () => inner.dropAll(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
