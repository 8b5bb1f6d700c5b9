import { Type as t } from "@sinclair/typebox";
import { envVar, hostVar, loadConfig, logLevelVar, Port, redisUrlFrom } from "../common/config.ts";
import { readPriceSigningKey } from "../common/prices/tick-signature.ts";
import { readRecordingConfig } from "./recording/config.ts";
import { priceSourceKinds } from "./sources/mod.ts";
import { readVenueConfig } from "./venues/config.ts";

const HOUR_MS = 60 * 60 * 1000;
/** The history kept by default: an hour, the widest window `GET /api/prices` may ask for (PRICE_HISTORY_MAX_SPAN_MS). */
const DEFAULT_RETENTION_MS = HOUR_MS;
/** At most one tick per 10 ms: a fresh start numbers from the first tick's time in ms (price/worker.ts `firstSeq`) and must not reuse an earlier run's numbers. */
const MIN_INTERVAL_MS = 10;
/** An info summary a minute unless set. */
const DEFAULT_SUMMARY_MS = 60_000;

/** The price service's settings, with their variables and defaults. */
function priceConfigSpec(randomSeed: number) {
  return {
    logLevel: logLevelVar,
    /** `GET /healthz` and `/metrics` (price/health.ts), on `host`: 127.0.0.1 unless HOST says otherwise. */
    port: envVar({ name: "PORT", schema: Port, fallback: 8082 }),
    host: hostVar,
    source: envVar({
      name: "PRICE_SOURCE",
      schema: t.Union(priceSourceKinds.map((kind) => t.Literal(kind))),
      fallback: "mock",
    }),
    intervalMs: envVar({ name: "PRICE_INTERVAL_MS", schema: t.Integer({ minimum: MIN_INTERVAL_MS, maximum: 60_000 }), fallback: 1000 }),
    retentionMs: envVar({ name: "PRICE_RETENTION_MS", schema: t.Integer({ minimum: 100, maximum: 7 * 24 * HOUR_MS }), fallback: DEFAULT_RETENTION_MS }),
    summaryMs: envVar({ name: "PRICE_SUMMARY_MS", schema: t.Integer({ minimum: 100, maximum: 24 * HOUR_MS }), fallback: DEFAULT_SUMMARY_MS }),
    /** Where the mock starts when no stored tick is left to continue from. */
    mockStart: envVar({ name: "PRICE_MOCK_START", schema: t.Number({ exclusiveMinimum: 0, maximum: 1e9 }), fallback: 42_000 }),
    mockVolatility: envVar({ name: "PRICE_MOCK_VOLATILITY", schema: t.Number({ minimum: 0, maximum: 0.1 }), fallback: 0.0005 }),
    // Random unless set; logged at start so a run can be replayed.
    mockSeed: envVar({ name: "PRICE_MOCK_SEED", schema: t.Integer({ minimum: 0, maximum: 2 ** 32 - 1 }), fallback: randomSeed }),
  };
}

/**
 * Reads the price service's settings from `env` once, throwing a `ConfigError`
 * that names the first bad variable and its value.
 *
 * ```ts
 * const config = readPriceConfig(process.env); // { intervalMs: 1000, source: "mock", ... }
 * ```
 */
export function readPriceConfig(env: Record<string, string | undefined>, randomSeed = Math.floor(Math.random() * 2 ** 32)) {
  return {
    ...loadConfig(priceConfigSpec(randomSeed), env),
    redisUrl: redisUrlFrom(env),
    signingKey: readPriceSigningKey(env),
    venues: readVenueConfig(env),
    recording: readRecordingConfig(env),
  };
}
