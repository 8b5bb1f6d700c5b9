import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../common/config.ts";
import { readVenueConfig } from "./config.ts";

describe("readVenueConfig", () => {
  test("defaults: every known venue, their documented URLs, 2 s fresh, 50 bps, a quorum of 2", () => {
    expect(readVenueConfig({})).toEqual({ venues: ["coinbase", "kraken", "bitstamp", "bitfinex"], urls: {}, staleMs: 2000, maxDeviationBps: 50, minVenues: 2 });
  });

  test("reads the list (any case, spaces, repeats once) and the URL overrides", () => {
    const config = readVenueConfig({
      PRICE_VENUES: " Coinbase, kraken,kraken ",
      PRICE_VENUE_URL_KRAKEN: "ws://127.0.0.1:9001/v2",
      PRICE_VENUE_STALE_MS: "1500",
      PRICE_MAX_DEVIATION_BPS: "25.5",
      PRICE_MIN_VENUES: "1",
    });
    expect(config).toEqual({ venues: ["coinbase", "kraken"], urls: { kraken: "ws://127.0.0.1:9001/v2" }, staleMs: 1500, maxDeviationBps: 25.5, minVenues: 1 });
  });

  test("a bad value names the variable and the value", () => {
    for (const [name, value] of [
      ["PRICE_VENUES", "coinbase,binance"],
      ["PRICE_VENUE_URL_BINANCE", "ws://127.0.0.1:1"],
      ["PRICE_VENUE_URL_COINBASE", "http://127.0.0.1:1"],
      ["PRICE_VENUE_STALE_MS", "abc"],
      ["PRICE_MAX_DEVIATION_BPS", "0"],
      ["PRICE_MIN_VENUES", "0"],
    ] as const) {
      const read = () => readVenueConfig({ [name]: value });
      expect(read).toThrow(ConfigError);
      expect(read).toThrow(`${name}=`);
    }
    expect(() => readVenueConfig({ PRICE_VENUES: "coinbase", PRICE_MIN_VENUES: "2" })).toThrow("PRICE_MIN_VENUES");
  });
});
