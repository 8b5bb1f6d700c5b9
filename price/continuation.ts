import type { BusTick } from "../common/contracts/price.ts";
import { parseBusTick } from "../common/prices/parse-tick.ts";
import type { TickSigner } from "../common/prices/tick-signature.ts";
import type { TickStore } from "../common/prices/tick-store.ts";

/**
 * Where a starting price service picks up: the stored newest tick it made, if
 * any; all three are undefined when there is none (`{}`).
 *
 * ```ts
 * const resumed: Continuation = { firstSeq: 52_115, price: 87_415.3, from: { symbol: "BTC-USD", price: 87_415.3, ts: 1_767_225_600_000, seq: 52_114 } };
 * ```
 */
export interface Continuation {
  /** The number of the first tick to publish; undefined when nothing can be continued. */
  firstSeq?: number;
  /** The price to walk on from (the mock); undefined when nothing can be continued. */
  price?: number;
  /** The tick continued from. */
  from?: BusTick;
}

/**
 * Reads the newest stored tick so a restart continues the sequence and the
 * price instead of jumping to `PRICE_MOCK_START` with a new numbering. A
 * stored tick that is not numbered, or not signed by `signer` when there is
 * one, is not ours to continue: the service then starts afresh.
 *
 * ```ts
 * const { firstSeq, price } = await readContinuation(store, signer);
 * ```
 */
export async function readContinuation(store: Pick<TickStore, "newest">, signer?: TickSigner): Promise<Continuation> {
  const raw = await store.newest();
  const tick = raw === undefined ? undefined : parseBusTick(raw, 0);
  if (!tick || tick.seq === undefined || (signer && !signer.verify(tick))) return {};
  return { firstSeq: tick.seq + 1, price: tick.price, from: tick };
}
