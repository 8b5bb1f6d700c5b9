import type { Logger } from "../../common/log.ts";
import type { VenueHealth } from "../health.ts";
import { type CompositeIndex, createCompositeIndex } from "../index/mod.ts";
import { createBitfinexProtocol } from "./bitfinex.ts";
import { bitstamp } from "./bitstamp.ts";
import { createCoinbaseProtocol } from "./coinbase.ts";
import type { VenueConfig } from "./config.ts";
import { connectVenue, type VenueConnection } from "./connection.ts";
import { kraken } from "./kraken.ts";
import type { VenueName, VenueProtocol } from "./protocol.ts";

/**
 * The protocol of venue `name`. A fresh one each call: Bitfinex's keeps the
 * channel id of its subscription and Coinbase's the newest sequence and trade
 * id it has read, so each connection needs its own.
 *
 * ```ts
 * connectVenue({ protocol: protocolFor("coinbase"), onQuote: (quote) => index.observe(quote), staleMs: 2000, log });
 * ```
 */
export function protocolFor(name: VenueName): VenueProtocol {
  switch (name) {
    case "coinbase":
      return createCoinbaseProtocol();
    case "kraken":
      return kraken;
    case "bitstamp":
      return bitstamp;
    case "bitfinex":
      return createBitfinexProtocol();
    default: {
      const unknown: never = name;
      throw new TypeError(`unknown venue: ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * The running venue connections: the composite index they feed, their health,
 * and a way to close them all.
 *
 * ```ts
 * const feeds: VenueFeeds = startVenueFeeds({ config: readVenueConfig(process.env), log });
 * feeds.health(); // { coinbase: { state: "live", … }, kraken: { … } }
 * ```
 */
export interface VenueFeeds {
  index: CompositeIndex;
  /** Each venue's state for `/healthz`: the connection's, and the index's verdict on a live one (excluded, stale). */
  health(now?: number): Record<string, VenueHealth>;
  /** Closes every connection. */
  close(): void;
}

/**
 * Opens one connection per configured venue, each feeding its quotes into
 * the composite index (docs/price-index.md).
 *
 * ```ts
 * const feeds = startVenueFeeds({ config: readVenueConfig(process.env), log });
 * const source = createVenuesSource({ index: feeds.index, release: feeds.close });
 * ```
 */
export function startVenueFeeds({
  config,
  log,
  now = Date.now,
  protocols = protocolFor,
  onOpen,
  onFrame,
}: {
  config: VenueConfig;
  log: Logger;
  now?: () => number;
  /** Where each venue's protocol comes from (tests shorten silences and backoffs). */
  protocols?: (name: VenueName) => VenueProtocol;
  /** See each venue's connections open and its text frames (recording). */
  onOpen?(venue: VenueName, at: number): void;
  onFrame?(venue: VenueName, text: string, receivedAt: number): void;
}): VenueFeeds {
  const index = createCompositeIndex({
    venues: config.venues,
    staleMs: config.staleMs,
    maxDeviationBps: config.maxDeviationBps,
    minVenues: config.minVenues,
    now,
  });
  const connections = new Map<VenueName, VenueConnection>();
  for (const name of config.venues) {
    const protocol = protocols(name);
    connections.set(
      name,
      connectVenue({
        protocol,
        url: config.urls[name] ?? protocol.url,
        onQuote: (quote) => void index.observe(quote),
        staleMs: config.staleMs,
        log,
        now,
        ...(onOpen ? { onOpen: (at: number) => onOpen(name, at) } : {}),
        ...(onFrame ? { onFrame: (text: string, at: number) => onFrame(name, text, at) } : {}),
      }),
    );
  }
  return {
    index,
    health(at = now()) {
      const verdicts = index.states(at);
      const report: Record<string, VenueHealth> = {};
      for (const [name, connection] of connections) {
        const stats = connection.stats();
        const verdict = verdicts[name];
        const state = stats.state === "live" && verdict === "excluded" ? "excluded" : stats.state === "live" && verdict === "stale" ? "stale" : stats.state;
        report[name] = { state, age_ms: stats.age_ms, reconnects: stats.reconnects, dropped: stats.dropped, gaps: stats.gaps };
      }
      return report;
    },
    close() {
      for (const connection of connections.values()) connection.close();
    },
  };
}
