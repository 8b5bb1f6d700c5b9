import { describe, expect, test } from "bun:test";
import { createLogger } from "../../common/log.ts";
import { startCoinbaseDouble } from "../../test/support/venues/coinbase.ts";
import { waitFor } from "../../test/support/wait.ts";
import { behavesLikeAVenue } from "./behaviour-suite.ts";
import { connectVenue } from "./connection.ts";
import { createCoinbaseProtocol } from "./coinbase.ts";
import type { VenueQuote } from "./protocol.ts";

behavesLikeAVenue("coinbase", {
  // One protocol for the suite: its tests open one connection at a time, and each subscribe starts it afresh.
  protocol: createCoinbaseProtocol(),
  // Coinbase's own rule: no subscribe within 5 s and the connection is closed.
  startDouble: (options) => startCoinbaseDouble({ subscribeWithinMs: 5_000, ...options }),
  subscription: { channels: ["ticker", "heartbeat"], symbols: ["BTC-USD"] },
});

describe("coinbase: the channels we read but do not subscribe to by default", () => {
  test("ticker_batch and matches from the double arrive as quotes", async () => {
    await using double = await startCoinbaseDouble();
    const quotes: VenueQuote[] = [];
    const protocol = { ...createCoinbaseProtocol(), subscribe: () => [JSON.stringify({ type: "subscribe", product_ids: ["BTC-USD"], channels: ["ticker_batch", "matches", "heartbeat"] })] };
    const feed = connectVenue({ protocol, url: double.url, onQuote: (quote) => quotes.push(quote), staleMs: 1_000, log: createLogger({ component: "test", level: "silent" }) });
    try {
      await waitFor("subscribed", () => double.subscriptions.some((s) => s.accepted));
      double.tickerBatch({ bid: 64_100, ask: 64_101, last: 64_100.5, ts: 1_700_000_000_123 });
      double.match(64_099.75, 1_700_000_000_456);
      await waitFor("both quotes", () => quotes.length >= 2);
      expect(quotes).toMatchObject([
        { venue: "coinbase", bid: 64_100, ask: 64_101, last: 64_100.5, venueTs: 1_700_000_000_123 },
        { venue: "coinbase", last: 64_099.75, venueTs: 1_700_000_000_456 },
      ]);
      expect(feed.stats().dropped).toBe(0);
    } finally {
      feed.close();
    }
  });
});
