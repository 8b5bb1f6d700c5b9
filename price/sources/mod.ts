import type { CompositeIndex } from "../index/mod.ts";
import { createMockSource, type MockSourceOptions } from "./mock.ts";
import { createVenuesSource } from "./venues.ts";

/**
 * Where prices come from. The worker samples a source once per tick, so a
 * push feed (an exchange websocket) keeps its latest trade and returns it here,
 * and a generator (the mock) takes one step per call.
 *
 * ```ts
 * const price = await source.sample(); // 42003.17, or undefined: the slot is skipped
 * await source.close();
 * ```
 */
export interface PriceSource {
  /** The source's kind, for logs. */
  readonly kind: PriceSourceKind;
  /** The BTC/USD price now, in dollars; undefined while the source knows none yet. */
  sample(): Promise<number | undefined>;
  /** What the last sample was made from, carried in its tick (the venues' count and spread). */
  describe?(): TickOrigin | undefined;
  /** Releases the source's connections, if any. */
  close(): Promise<void>;
}

/**
 * What a tick says of where its price came from.
 *
 * ```ts
 * const origin: TickOrigin = { venues: 3, dispersion_bps: 1.37 };
 * ```
 */
export interface TickOrigin {
  /** How many venues the index was made from. */
  venues: number;
  /** (highest mid − lowest mid) / median among them, in basis points. */
  dispersion_bps: number;
}

/**
 * Every kind of source; `PRICE_SOURCE` takes one of these.
 *
 * ```ts
 * t.Union(priceSourceKinds.map((kind) => t.Literal(kind))); // the schema of PRICE_SOURCE
 * ```
 */
export const priceSourceKinds = ["mock", "venues"] as const;
/**
 * One kind of source.
 *
 * ```ts
 * const kind: PriceSourceKind = "venues";
 * ```
 */
export type PriceSourceKind = (typeof priceSourceKinds)[number];

/**
 * What `createPriceSource` builds, by `kind`, with that kind's settings.
 *
 * ```ts
 * const options: PriceSourceOptions = { kind: "mock", start: 42_000, volatility: 0.0005, seed: 1 };
 * ```
 */
export type PriceSourceOptions =
  | ({ kind: "mock" } & MockSourceOptions)
  /** The exchanges' composite index (price/venues/mod.ts `startVenueFeeds` makes `index` and `release`). */
  | { kind: "venues"; index: Pick<CompositeIndex, "compute">; release: () => void };

/**
 * Builds the source `options.kind` names, throwing on a kind it does not know
 * rather than running without prices.
 *
 * ```ts
 * const source = createPriceSource({ kind: "mock", start: 42000, volatility: 0.0005, seed: 1 });
 * ```
 */
export function createPriceSource(options: PriceSourceOptions): PriceSource {
  const kind = options.kind;
  switch (kind) {
    case "mock":
      return createMockSource(options);
    case "venues":
      return createVenuesSource({ index: options.index, release: options.release });
    default: {
      const unknown: never = kind;
      throw new TypeError(`unknown price source kind: ${JSON.stringify(unknown)}`);
    }
  }
}

export { createMockSource } from "./mock.ts";
export type { MockSourceOptions } from "./mock.ts";
