// Follows Bitfinex's docs "ws-general" (info codes, ping/pong, heartbeating), "ws-public" (rate limit) and "ws-public-ticker" (docs.bitfinex.com).
import { priceField, type VenueEvent, type VenueProtocol } from "./protocol.ts";

/** Trading pairs are upper case with a `t` in front. */
const BITFINEX_SYMBOL = "tBTCUSD";

/** The `code` of an `info` event; only the code is part of the protocol, not its text. */
const bitfinexInfo = { restart: 20051, maintenanceStart: 20060, maintenanceEnd: 20061 } as const;
/** An `error` answering a subscribe we already have: the data still flows, so it is no refusal. */
const ALREADY_SUBSCRIBED = 10301;
/** The ack normally follows the subscribe within a second; with none after two keep-alives (4 s) we start again. */
const ACK_WITHIN_KEEP_ALIVES = 2;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Bitfinex's public websocket v2 (`wss://api-pub.bitfinex.com/ws/2`), the
 * `ticker` channel of tBTCUSD: best bid, best ask and last price in one array.
 *
 * One protocol object per connection: data arrays carry only the numeric
 * `chanId` that the `subscribed` event handed out, so it remembers that id
 * (forgotten on each new subscribe) and ignores arrays of any other channel.
 *
 * - `info` on connect: platform status 0 (maintenance) is taken as a refusal,
 *   so the connection is retried with backoff; code 20051 (restart) asks for a
 *   reconnect; 20060 (maintenance) pauses: quotes are ignored, the socket kept;
 *   20061 (maintenance over) reconnects, since the docs advise subscribing anew.
 * - No `subscribed` by the second keep-alive reconnects: without the chanId
 *   no data can be read, and the pongs would keep the connection alive.
 * - The server heartbeats a quiet channel only every 15 s, so we send
 *   `{"event":"ping","cid":N}` every 2 s and take its `pong` as proof of life.
 * - api-pub allows 20 connections a minute: the backoff's shortest wait
 *   (half its 6 s base) is 3 s, so even a backoff that starts over on every
 *   failure stays inside it; at most 60 s.
 *
 * ```ts
 * connectVenue({ protocol: createBitfinexProtocol(), onQuote, staleMs: 2000, log });
 * ```
 */
export function createBitfinexProtocol(): VenueProtocol {
  let chanId: number | undefined;
  let paused = false;
  let cid = 0;
  /** Keep-alives sent since the subscribe without its `subscribed` yet: pongs alone must not keep a feedless connection. */
  let unacknowledged = 0;

  const parseEvent = (message: Json): VenueEvent => {
    switch (message.event) {
      case "info": {
        const { code, platform } = message;
        if (code === bitfinexInfo.restart) return { kind: "reconnect", reason: "info 20051: server restart" };
        if (code === bitfinexInfo.maintenanceEnd) return { kind: "reconnect", reason: "info 20061: maintenance over, subscribing anew" };
        if (code === bitfinexInfo.maintenanceStart) {
          paused = true;
          return { kind: "alive" };
        }
        if (isObject(platform) && platform.status === 0) return { kind: "refused", reason: "info: platform in maintenance (status 0)" };
        return { kind: "ignored" };
      }
      case "subscribed": {
        const id = message.chanId;
        if (message.channel !== "ticker" || message.symbol !== BITFINEX_SYMBOL) return { kind: "ignored" };
        if (typeof id !== "number" || !Number.isInteger(id)) return { kind: "invalid", reason: "subscribed without an integer chanId" };
        chanId = id;
        return { kind: "subscribed" };
      }
      case "error":
        if (message.code === ALREADY_SUBSCRIBED) return { kind: "ignored" };
        return { kind: "refused", reason: `error ${String(message.code ?? "no code")}: ${String(message.msg ?? "no message")}` };
      case "pong":
        return { kind: "alive" };
      default:
        // conf, unsubscribed, and events added later.
        return typeof message.event === "string" ? { kind: "ignored" } : { kind: "invalid", reason: "not a Bitfinex event" };
    }
  };

  const parseChannel = (message: unknown[], receivedAt: number): VenueEvent => {
    const [id, payload] = message;
    if (typeof id !== "number") return { kind: "invalid", reason: "channel message without a numeric chanId" };
    if (id !== chanId) return { kind: "ignored" };
    if (payload === "hb") return { kind: "alive" };
    // Array lengths may grow (the docs say never to hard-code them): read by position, need the first seven.
    if (!Array.isArray(payload) || payload.length < 7) return { kind: "invalid", reason: "ticker is not an array of at least 7 fields" };
    if (paused) return { kind: "ignored" };
    const bid = priceField(payload[0]);
    const ask = priceField(payload[2]);
    const last = priceField(payload[6]);
    if (bid === undefined || ask === undefined) return { kind: "invalid", reason: "ticker without a numeric BID and ASK" };
    if (bid > ask) return { kind: "ignored" };
    return { kind: "quote", quote: last === undefined ? { venue: "bitfinex", bid, ask, receivedAt } : { venue: "bitfinex", bid, ask, last, receivedAt } };
  };

  return {
    name: "bitfinex",
    url: "wss://api-pub.bitfinex.com/ws/2",
    subscribe() {
      chanId = undefined;
      paused = false;
      unacknowledged = 0;
      return [JSON.stringify({ event: "subscribe", channel: "ticker", symbol: BITFINEX_SYMBOL })];
    },
    parse(text, receivedAt) {
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        return [{ kind: "invalid", reason: "not JSON" }];
      }
      let event: VenueEvent;
      if (Array.isArray(message)) event = parseChannel(message, receivedAt);
      else if (isObject(message)) event = parseEvent(message);
      else event = { kind: "invalid", reason: "neither an event nor a channel message" };
      if (chanId === undefined && unacknowledged >= ACK_WITHIN_KEEP_ALIVES && (event.kind === "alive" || event.kind === "ignored")) {
        return [{ kind: "reconnect", reason: `no subscribed answer after ${unacknowledged} keep-alives` }];
      }
      return [event];
    },
    keepAlive: {
      everyMs: 2_000,
      message() {
        if (chanId === undefined) unacknowledged++;
        return JSON.stringify({ event: "ping", cid: ++cid });
      },
    },
    silenceMs: 6_000,
    backoff: { baseMs: 6_000, capMs: 60_000 },
  };
}
