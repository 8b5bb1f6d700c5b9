import { startKrakenDouble } from "../../test/support/venues/kraken.ts";
import { behavesLikeAVenue } from "./behaviour-suite.ts";
import { kraken } from "./kraken.ts";

behavesLikeAVenue("kraken", {
  protocol: kraken,
  startDouble: startKrakenDouble,
  subscription: { channels: ["ticker"], symbols: ["BTC/USD"] },
});
