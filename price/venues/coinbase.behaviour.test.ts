import { startCoinbaseDouble } from "../../test/support/venues/coinbase.ts";
import { behavesLikeAVenue } from "./behaviour-suite.ts";
import { coinbase } from "./coinbase.ts";

behavesLikeAVenue("coinbase", {
  protocol: coinbase,
  // Coinbase's own rule: no subscribe within 5 s and the connection is closed.
  startDouble: (options) => startCoinbaseDouble({ subscribeWithinMs: 5_000, ...options }),
  subscription: { channels: ["ticker", "heartbeat"], symbols: ["BTC-USD"] },
});
