import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../common/config.ts";
import { readPriceConfig } from "./config.ts";

describe("readPriceConfig", () => {
  test("defaults: mock source, one tick a second, an hour of history", () => {
    expect(readPriceConfig({}, 99)).toEqual({
      logLevel: "info",
      port: 8082,
      host: "127.0.0.1",
      source: "mock",
      intervalMs: 1000,
      retentionMs: 3_600_000,
      summaryMs: 60_000,
      mockStart: 42_000,
      mockVolatility: 0.0005,
      mockSeed: 99,
      redisUrl: "redis://127.0.0.1:6379",
      signingKey: undefined,
      venues: { venues: ["coinbase", "kraken", "bitstamp", "bitfinex"], urls: {}, staleMs: 2000, maxDeviationBps: 50, minVenues: 2 },
      recording: { dir: undefined, maxBytes: 64 * 1024 * 1024, maxFiles: 24 },
    });
  });

  test("recording: an absolute directory, a file size and a file count, each named when bad", () => {
    expect(readPriceConfig({ PRICE_RECORD_DIR: "/var/lib/tap/price", PRICE_RECORD_MAX_BYTES: "1048576", PRICE_RECORD_FILES: "3" }).recording).toEqual({
      dir: "/var/lib/tap/price",
      maxBytes: 1_048_576,
      maxFiles: 3,
    });
    expect(() => readPriceConfig({ PRICE_RECORD_DIR: "relative/dir" })).toThrow(ConfigError);
    expect(() => readPriceConfig({ PRICE_RECORD_DIR: "relative/dir" })).toThrow("PRICE_RECORD_DIR");
    expect(() => readPriceConfig({ PRICE_RECORD_MAX_BYTES: "100" })).toThrow("PRICE_RECORD_MAX_BYTES");
    expect(() => readPriceConfig({ PRICE_RECORD_MAX_BYTES: "1e3x" })).toThrow("PRICE_RECORD_MAX_BYTES");
    expect(() => readPriceConfig({ PRICE_RECORD_FILES: "0" })).toThrow("PRICE_RECORD_FILES");
  });

  test("the signing key: inline, or from a file only its owner can read, at least 32 bytes", () => {
    expect(readPriceConfig({ PRICE_SIGNING_KEY: "k".repeat(32) }).signingKey).toBe("k".repeat(32));
    const dir = mkdtempSync(join(tmpdir(), "tap-price-key-"));
    try {
      const file = join(dir, "key");
      writeFileSync(file, `${"f".repeat(40)}\n`, { mode: 0o600 });
      expect(readPriceConfig({ PRICE_SIGNING_KEY_FILE: file }).signingKey).toBe("f".repeat(40));
      chmodSync(file, 0o644);
      expect(() => readPriceConfig({ PRICE_SIGNING_KEY_FILE: file })).toThrow("PRICE_SIGNING_KEY_FILE");
      expect(() => readPriceConfig({ PRICE_SIGNING_KEY_FILE: join(dir, "missing") })).toThrow("cannot be read");
      expect(() => readPriceConfig({ PRICE_SIGNING_KEY: "short" })).toThrow("at least 32 bytes");
      expect(() => readPriceConfig({ PRICE_SIGNING_KEY: "k".repeat(32), PRICE_SIGNING_KEY_FILE: file })).toThrow("not both");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("reads every variable", () => {
    const config = readPriceConfig({
      PRICE_SOURCE: "mock",
      PRICE_INTERVAL_MS: "250",
      PRICE_RETENTION_MS: "5000",
      PRICE_SUMMARY_MS: "1000",
      PRICE_MOCK_START: "100.5",
      PRICE_MOCK_VOLATILITY: "0.01",
      PRICE_MOCK_SEED: "7",
      HOST: "0.0.0.0",
      REDIS_ADDR: "redis.internal:6380",
      LOG_LEVEL: "debug",
    });
    expect(config).toMatchObject({
      intervalMs: 250,
      retentionMs: 5000,
      summaryMs: 1000,
      mockStart: 100.5,
      mockVolatility: 0.01,
      mockSeed: 7,
      host: "0.0.0.0",
      redisUrl: "redis://redis.internal:6380",
      logLevel: "debug",
    });
  });

  test("a bad value names the variable and the value", () => {
    for (const [name, value] of [
      ["PRICE_INTERVAL_MS", "abc"],
      ["PRICE_INTERVAL_MS", "0"],
      ["PRICE_INTERVAL_MS", "9"],
      ["PRICE_INTERVAL_MS", "60001"],
      ["PRICE_INTERVAL_MS", "1.5"],
      ["PRICE_RETENTION_MS", "-1"],
      ["PRICE_SOURCE", "binance"],
      ["PRICE_MOCK_START", "0"],
      ["PRICE_MOCK_VOLATILITY", "-0.1"],
      ["PRICE_MOCK_SEED", "x"],
      ["HOST", "everywhere"],
      ["HOST", "10.0.0.1:8082"],
    ] as const) {
      const read = () => readPriceConfig({ [name]: value });
      expect(read).toThrow(ConfigError);
      expect(read).toThrow(`${name}="${value}"`);
    }
  });
});
