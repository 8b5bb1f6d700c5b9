import { startBitfinexDouble } from "../../test/support/venues/bitfinex.ts";
import { behavesLikeAVenue } from "./behaviour-suite.ts";
import { createBitfinexProtocol } from "./bitfinex.ts";

behavesLikeAVenue("bitfinex", {
  // One protocol for the suite: its tests open one connection at a time, and each subscribe starts it afresh.
  protocol: createBitfinexProtocol(),
  startDouble: startBitfinexDouble,
  subscription: { channels: ["ticker"], symbols: ["tBTCUSD"] },
});
