import { startBitstampDouble } from "../../test/support/venues/bitstamp.ts";
import { behavesLikeAVenue } from "./behaviour-suite.ts";
import { bitstamp } from "./bitstamp.ts";

behavesLikeAVenue("bitstamp", {
  protocol: bitstamp,
  startDouble: startBitstampDouble,
  subscription: { channels: ["order_book_btcusd", "live_trades_btcusd"], symbols: ["btcusd"] },
});
