import { expect, test } from "bun:test";
import { createPriceSource, type PriceSourceOptions, priceSourceKinds } from "./mod.ts";

test("builds every known kind", async () => {
  let released = 0;
  const options: Record<(typeof priceSourceKinds)[number], PriceSourceOptions> = {
    mock: { kind: "mock", start: 42000, volatility: 0.001, seed: 1 },
    venues: {
      kind: "venues",
      index: { compute: () => ({ price: 42_000.5, venues: 3, used: ["coinbase", "kraken", "bitstamp"], dispersion_bps: 1.5, excluded: [] }) },
      release: () => void released++,
    },
  };
  for (const kind of priceSourceKinds) {
    const source = createPriceSource(options[kind]);
    expect(source.kind).toBe(kind);
    expect(await source.sample()).toBeGreaterThan(0);
    await source.close();
  }
  expect(released).toBe(1);
});

test("throws on an unknown kind instead of running without prices", () => {
  const options = { kind: "binance", start: 1, volatility: 0, seed: 1 } as unknown as PriceSourceOptions;
  expect(() => createPriceSource(options)).toThrow(/unknown price source kind: "binance"/);
});
