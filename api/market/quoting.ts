import type { Bus } from "../../common/bus/mod.ts";
import type { Logger } from "../../common/log.ts";
import type { TickSigner } from "../../common/prices/tick-signature.ts";
import type { TickStore } from "../../common/prices/tick-store.ts";
import { WARM_UP_MS } from "../settlement/judging.ts";
import { startMarketFeed } from "./feed.ts";
import type { Market } from "./market.ts";
import type { TickBounds } from "./tick-bounds.ts";

/**
 * The price feed of an api node that does not settle (a standby of several on
 * PostgreSQL): it keeps the market, so the node quotes the grid and judges
 * bets' cells, and settles nothing. The last 10 minutes are read back first,
 * as judging does, for the volatility.
 *
 * ```ts
 * const quoting = startQuoting({ market, bus, history: ticks, bounds, log });
 * await quoting.stop(); // when this node takes the settler lease and starts judging
 * ```
 */
export function startQuoting({
  market,
  bus,
  history,
  signer,
  bounds,
  log,
  now = Date.now,
}: {
  market: Pick<Market, "observe" | "doubt">;
  bus: Bus;
  history: Pick<TickStore, "history">;
  signer?: TickSigner;
  bounds: TickBounds;
  log: Logger;
  now?: () => number;
}) {
  const feed = startMarketFeed({
    bus,
    history,
    ...(signer ? { signer } : {}),
    bounds,
    historyFrom: now() - WARM_UP_MS,
    onTick: ({ tick }) => market.observe(tick),
    onRejected: () => market.doubt(),
    log,
    now,
  });
  return { feed, stop: () => feed.stop() };
}
