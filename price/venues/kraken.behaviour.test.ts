import { describe, expect, test } from "bun:test";
import { createLogger } from "../../common/log.ts";
import { startKrakenDouble } from "../../test/support/venues/kraken.ts";
import { waitFor } from "../../test/support/wait.ts";
import { behavesLikeAVenue } from "./behaviour-suite.ts";
import { connectVenue } from "./connection.ts";
import { kraken } from "./kraken.ts";
import type { VenueQuote } from "./protocol.ts";

behavesLikeAVenue("kraken", {
  protocol: kraken,
  startDouble: startKrakenDouble,
  subscription: { channels: ["ticker"], symbols: ["BTC/USD"] },
});

describe("kraken: the trade channel, read but not subscribed to by default", () => {
  test("a trade from the double arrives as a last price", async () => {
    await using double = await startKrakenDouble();
    const quotes: VenueQuote[] = [];
    const protocol = { ...kraken, subscribe: () => [...kraken.subscribe(), JSON.stringify({ method: "subscribe", params: { channel: "trade", symbol: ["BTC/USD"] } })] };
    const feed = connectVenue({ protocol, url: double.url, onQuote: (quote) => quotes.push(quote), staleMs: 1_000, log: createLogger({ component: "test", level: "silent" }) });
    try {
      await waitFor("both subscribed", () => double.subscriptions.filter((s) => s.accepted).length >= 2);
      double.trade(64_099.75, 1_700_000_000_456);
      await waitFor("the trade", () => quotes.length >= 1);
      expect(quotes).toMatchObject([{ venue: "kraken", last: 64_099.75, venueTs: 1_700_000_000_456 }]);
      expect(feed.stats().dropped).toBe(0);
    } finally {
      feed.close();
    }
  });
});
