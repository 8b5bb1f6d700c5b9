import { expect, test } from "bun:test";
import { createPriceSource, type PriceSourceOptions, priceSourceKinds } from "./mod.ts";

test("builds every known kind", async () => {
  for (const kind of priceSourceKinds) {
    const source = createPriceSource({ kind, start: 42000, volatility: 0.001, seed: 1 });
    expect(source.kind).toBe(kind);
    expect(await source.sample()).toBeGreaterThan(0);
    await source.close();
  }
});

test("throws on an unknown kind instead of running without prices", () => {
  const options = { kind: "binance", start: 1, volatility: 0, seed: 1 } as unknown as PriceSourceOptions;
  expect(() => createPriceSource(options)).toThrow(/unknown price source kind: "binance"/);
});
