/**
 * A Bitfinex double: the public websocket v2 protocol (docs.bitfinex.com
 * ws-general, ws-public-ticker) on a local websocket server. On connect it
 * sends the `info` event with the version and platform status; it answers a
 * ticker `subscribe` with `subscribed` and a fresh `chanId` (or the documented
 * `error` with its code), `ping` with `pong`, and `conf` with its status.
 * While silent it is a stalled venue: it answers the subscribes it read once
 * it wakes (nothing else it would have sent is replayed).
 */
import { type DoubleClient, startVenueDouble } from "../venue-double.ts";
import type { DoubleQuote, DoubleQuoteSent, DoubleSubscription, VenueDoubleApi, VenueDoubleApiOptions } from "./double-api.ts";

const frame = (value: unknown) => JSON.stringify(value);
const error = (code: number, msg: string) => frame({ event: "error", msg, code });
/** Trading pairs: `t` and the pair in upper case. */
const TRADING_SYMBOL = /^t[A-Z0-9:]{6,}$/;

interface Session {
  connection: number;
  /** chanId → symbol of each ticker subscription on this connection. */
  tickers: Map<number, string>;
}

export interface BitfinexDouble extends VenueDoubleApi {
  /** Sends info 20051 (stop/restart, please reconnect) to every client. */
  requestReconnect(): void;
  /** Sends info 20060 (maintenance starts) or 20061 (it is over) to every client. */
  maintenance(on: boolean): void;
  /** Sends a ticker on a channel id no client subscribed to. */
  strangerChannel(): void;
  /** The platform status the `info` on connect reports: 1 operative (default), 0 maintenance. */
  platformStatus: 0 | 1;
}

/**
 * Starts a Bitfinex double on 127.0.0.1.
 *
 * ```ts
 * await using double = await startBitfinexDouble();
 * connectVenue({ protocol: createBitfinexProtocol(), url: double.url, … });
 * double.quote({ bid: 7616.5, ask: 7617.5, last: 7617.1 }); // one ticker array per subscribed client
 * ```
 */
export async function startBitfinexDouble({ heartbeatEveryMs, subscribeWithinMs }: VenueDoubleApiOptions = {}): Promise<BitfinexDouble> {
  const sessions = new Map<DoubleClient, Session>();
  const subscriptions: DoubleSubscription[] = [];
  const unrecognised: string[] = [];
  let accepted = 0;
  let nextChanId = 224555;
  let refuseNext = false;
  let keepAlivesReceived = 0;
  let platformStatus: 0 | 1 = 1;
  /** Answers to subscribes read while silent: a stalled venue answers its backlog when it wakes. */
  const backlog: Array<[DoubleClient, string]> = [];
  const answer = (client: DoubleClient, text: string) => {
    if (inner.silent) backlog.push([client, text]);
    else client.send(text);
  };

  const onSubscribe = (client: DoubleClient, session: Session, text: string, message: Record<string, unknown>) => {
    const { channel, symbol } = message;
    const subscription = { connection: session.connection, channels: typeof channel === "string" ? [channel] : [], symbols: typeof symbol === "string" ? [symbol] : [], frame: text };
    let refusal: string | undefined;
    if (refuseNext) refusal = error(10300, "Subscription failed (generic)");
    else if (channel !== "ticker") refusal = error(10302, "Unknown channel");
    else if (typeof symbol !== "string" || !TRADING_SYMBOL.test(symbol)) refusal = error(10001, "Unknown pair");
    else if ([...session.tickers.values()].includes(symbol)) refusal = error(10301, "Already subscribed");
    refuseNext = false;
    subscriptions.push({ ...subscription, accepted: refusal === undefined });
    if (refusal !== undefined) {
      answer(client, refusal);
      return;
    }
    const chanId = nextChanId++;
    session.tickers.set(chanId, symbol as string);
    answer(client, frame({ event: "subscribed", channel: "ticker", chanId, symbol, pair: (symbol as string).slice(1) }));
  };

  const inner = await startVenueDouble({
    onOpen(client) {
      const session: Session = { connection: ++accepted, tickers: new Map() };
      sessions.set(client, session);
      client.send(frame({ event: "info", version: 2, serverId: "double", platform: { status: platformStatus } }));
      if (subscribeWithinMs !== undefined) inner.closeUnlessSubscribed(client, subscribeWithinMs, () => session.tickers.size > 0, "no subscription");
    },
    onMessage(client, text) {
      const session = sessions.get(client);
      if (!session) return;
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        unrecognised.push(text);
        client.send(error(10000, "Unknown event"));
        return;
      }
      const fields = (typeof message === "object" && message !== null && !Array.isArray(message) ? message : {}) as Record<string, unknown>;
      switch (fields.event) {
        case "subscribe":
          onSubscribe(client, session, text, fields);
          return;
        case "unsubscribe":
          if (typeof fields.chanId === "number") session.tickers.delete(fields.chanId);
          client.send(frame({ event: "unsubscribed", status: "OK", chanId: fields.chanId }));
          return;
        case "ping":
          keepAlivesReceived++;
          client.send(frame({ event: "pong", ts: Date.now(), cid: fields.cid }));
          return;
        case "conf":
          client.send(frame({ event: "conf", status: "OK" }));
          return;
        default:
          unrecognised.push(text);
          client.send(error(10000, "Unknown event"));
      }
    },
  });

  /** Each connected client's ticker channel of tBTCUSD, where it has one. */
  const btcChannels = () => {
    const found: Array<[DoubleClient, number]> = [];
    for (const client of inner.clients) {
      for (const [chanId, symbol] of sessions.get(client)?.tickers ?? []) if (symbol === "tBTCUSD") found.push([client, chanId]);
    }
    return found;
  };
  const everyClient = (text: string) => {
    for (const client of inner.clients) client.send(text);
  };
  const heartbeat = () => {
    for (const [client, chanId] of btcChannels()) client.send(frame([chanId, "hb"]));
  };
  const heartbeats = heartbeatEveryMs === undefined ? undefined : setInterval(heartbeat, heartbeatEveryMs);
  const stop = async () => {
    if (heartbeats) clearInterval(heartbeats);
    await inner.stop();
  };
  /** BID, BID_SIZE, ASK, ASK_SIZE, DAILY_CHANGE, DAILY_CHANGE_RELATIVE, LAST_PRICE, VOLUME, HIGH, LOW. */
  const tickerFields = (bid: number, ask: number, last: number) => [bid, 31.89055171, ask, 43.358118629999986, -550.8, -0.0674, last, 8314.71200815, Math.max(ask, last) + 100, Math.max(0.01, Math.min(bid, last) - 100)];

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
    /** The ticker always carries LAST_PRICE: without `last` it carries the mid. The ticker has no timestamp. */
    quote({ bid, ask, last }: DoubleQuote): DoubleQuoteSent {
      const fields = tickerFields(bid, ask, last ?? (bid + ask) / 2);
      for (const [client, chanId] of btcChannels()) client.send(frame([chanId, fields]));
      return { venueTs: undefined, frames: 1 };
    },
    heartbeat,
    malformed() {
      const per = btcChannels();
      const bad = (chanId: number) => [
        "[224555, [7616.5, not json",
        frame([chanId, ["abc", 1, "def", 1, 0, 0, "ghi", 1, 2, 3]]),
        frame([chanId, [7616.5, 1]]),
        frame({ chanId }),
      ];
      for (const [client, chanId] of per) for (const text of bad(chanId)) client.send(text);
      return bad(0).length;
    },
    refuseNextSubscribe() {
      refuseNext = true;
    },
    get keepAlivesReceived() {
      return keepAlivesReceived;
    },
    pongsReceived: 0,
    requestReconnect() {
      everyClient(frame({ event: "info", code: 20051, msg: "Stop/Restart Websocket Server" }));
    },
    maintenance(on: boolean) {
      everyClient(
        on
          ? frame({ event: "info", code: 20060, msg: "Entering in Maintenance mode" })
          : frame({ event: "info", code: 20061, msg: "Maintenance ended" }),
      );
    },
    strangerChannel() {
      everyClient(frame([nextChanId + 1000, tickerFields(1, 2, 1.5)]));
    },
    get platformStatus() {
      return platformStatus;
    },
    set platformStatus(value: 0 | 1) {
      platformStatus = value;
    },
    get silent() {
      return inner.silent;
    },
    set silent(value: boolean) {
      inner.silent = value;
      if (value) return;
      const connected = new Set(inner.clients);
      for (const [client, text] of backlog.splice(0)) if (connected.has(client)) client.send(text);
    },
    dropAll: () => inner.dropAll(),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
