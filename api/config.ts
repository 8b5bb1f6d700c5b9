import { Type as t } from "@sinclair/typebox";
import { type ConfigOf, ConfigError, envVar, hostVar, loadConfig, logLevelVar, Port, redisUrlFrom } from "../common/config.ts";
import { toCents } from "../common/money.ts";
import { readPriceSigningKey } from "../common/prices/tick-signature.ts";
import { readSessionSecret } from "../common/sessions/secret.ts";
import { databaseUrlOf } from "../common/store/postgres.ts";
import { MIN_MULTIPLIER } from "./grid/build-grid.ts";
import { settlementVars } from "./settlement/config.ts";

const Origin = t.String({ pattern: "^https?://[^/\\s,]+$" });
const Money = t.Integer({ minimum: 1, description: "cents" });
const Ms = (min: number, max: number) => t.Integer({ minimum: min, maximum: max });

/**
 * A decimal amount with at most two places, read as cents. The text itself is
 * checked: `Number("99.99999999999999999")` is 100, and `1e2` or `0x10` are
 * not how money is written.
 */
const parseMoney = (raw: string) => {
  const cents = /^\d+(\.\d{1,2})?$/.test(raw) ? toCents(Number(raw)) : undefined;
  if (cents === undefined) throw new Error("must be a decimal number with at most two places");
  return cents;
};

const spec = {
  port: envVar({ name: "PORT", schema: Port, fallback: 8080 }),
  /** 127.0.0.1 unless set: players come through nginx, not to this port. */
  host: hostVar,
  logLevel: logLevelVar,
  dbPath: envVar({ name: "DB_PATH", schema: t.String({ minLength: 1 }), fallback: "data/bets.db" }),
  corsOrigins: envVar({
    name: "CORS_ORIGINS",
    schema: t.Array(Origin, { minItems: 1 }),
    fallback: ["http://localhost"],
    parse: (raw) => raw.split(",").map((origin) => origin.trim()),
  }),
  /** Mounts routes that exist only for tests (a handler that throws). Never set in production. */
  testRoutes: envVar({ name: "ENABLE_TEST_ROUTES", schema: t.Boolean(), fallback: false }),

  // Players and sessions.
  startingBalanceCents: envVar({ name: "STARTING_BALANCE", schema: Money, fallback: 100_000, parse: parseMoney }),
  sessionTtlS: envVar({ name: "SESSION_TTL_S", schema: Ms(60, 90 * 86_400), fallback: 7 * 86_400 }),
  sessionsPerIpPerMin: envVar({ name: "SESSIONS_PER_IP_PER_MIN", schema: Ms(1, 1_000_000), fallback: 30 }),

  // The grid and its prices.
  columnMs: envVar({ name: "COLUMN_MS", schema: Ms(1000, 3_600_000), fallback: 5000 }),
  bandCents: envVar({ name: "BAND", schema: Money, fallback: 1000, parse: parseMoney }),
  gridColumns: envVar({ name: "GRID_COLUMNS", schema: Ms(1, 120), fallback: 12 }),
  gridRowsEachSide: envVar({ name: "GRID_ROWS_EACH_SIDE", schema: Ms(1, 100), fallback: 10 }),
  lockMs: envVar({ name: "LOCK_MS", schema: Ms(0, 3_600_000), fallback: 2000 }),
  houseEdge: envVar({ name: "HOUSE_EDGE", schema: t.Number({ minimum: 0, maximum: 0.5 }), fallback: 0.05 }),
  /** How hard each commit is pushed to disk (docs/deployment.md, "Durability"): full fsyncs every group commit. */
  dbSync: envVar({ name: "DB_SYNC", schema: t.Union([t.Literal("normal"), t.Literal("full")]), fallback: "full" }),
  /** How far ahead a quoted multiplier is good for (docs/rules.md, "Quotes and slippage"); 0 quotes the price of the instant. */
  quoteHorizonMs: envVar({ name: "QUOTE_HORIZON_MS", schema: Ms(0, 10_000), fallback: 1000 }),
  /** The least expected return of an offered cell; between 0.5 and 1 − HOUSE_EDGE (docs/rules.md). */
  minRtp: envVar({ name: "MIN_RTP", schema: t.Number({ minimum: 0.5, maximum: 1 }), fallback: 0.9 }),
  maxMultiplier: envVar({ name: "MAX_MULTIPLIER", schema: t.Number({ minimum: MIN_MULTIPLIER, maximum: 10_000 }), fallback: 100 }),
  sigmaFloor: envVar({ name: "SIGMA_FLOOR", schema: t.Number({ exclusiveMinimum: 0, maximum: 0.1 }), fallback: 0.0001 }),
  // STALE_MS, SETTLE_GRACE_MS, SETTLE_TIMEOUT_MS: shared with the audit (api/replay.ts).
  ...settlementVars,
  /** A tick further ahead of this clock is refused (docs/rules.md, "Bounds"). */
  tickMaxSkewMs: envVar({ name: "TICK_MAX_SKEW_MS", schema: Ms(0, 60_000), fallback: 1000 }),
  /** A price further than this, relative, from the last fresh one is refused (docs/rules.md, "Bounds"). */
  priceMaxJump: envVar({ name: "PRICE_MAX_JUMP", schema: t.Number({ minimum: 0.0001, maximum: 0.5 }), fallback: 0.01 }),

  // Limits on bets.
  minStakeCents: envVar({ name: "MIN_STAKE", schema: Money, fallback: 10, parse: parseMoney }),
  maxStakeCents: envVar({ name: "MAX_STAKE", schema: Money, fallback: 10_000, parse: parseMoney }),
  maxOpenBets: envVar({ name: "MAX_OPEN_BETS", schema: Ms(1, 1_000_000), fallback: 100 }),
  maxCellLiabilityCents: envVar({ name: "MAX_CELL_LIABILITY", schema: Money, fallback: 5_000_000, parse: parseMoney }),
  maxHouseLiabilityCents: envVar({ name: "MAX_HOUSE_LIABILITY", schema: Money, fallback: 100_000_000, parse: parseMoney }),
  betsPerPlayerPerS: envVar({ name: "BETS_PER_PLAYER_PER_S", schema: Ms(1, 1_000_000), fallback: 10 }),
  /** Bets wait at most this long for company before their batch commits. */
  batchDelayMs: envVar({ name: "BATCH_DELAY_MS", schema: Ms(0, 50), fallback: 0 }),
  /** PostgreSQL only: group commits in flight at once (SQLite writes each within its call). */
  pgBatchesInFlight: envVar({ name: "PG_BATCHES_IN_FLIGHT", schema: t.Integer({ minimum: 1, maximum: 8 }), fallback: 2 }),
};

/**
 * The API's settings, read once at start by `readApiConfig`.
 *
 * ```ts
 * const config: ApiConfig = readApiConfig(process.env);
 * ```
 */
export type ApiConfig = ConfigOf<typeof spec> & { redisUrl: string; sessionSecret: string; priceSigningKey: string | undefined; databaseUrl: string | undefined };

/**
 * The API's settings from the environment; throws a ConfigError naming the bad variable.
 *
 * ```ts
 * const config = configOrExit("api", () => readApiConfig(process.env));
 * config.port; // 8080 unless PORT says otherwise
 * ```
 */
export function readApiConfig(env: Record<string, string | undefined>): ApiConfig {
  const config = loadConfig(spec, env);
  if (config.minStakeCents > config.maxStakeCents) throw new ConfigError("MIN_STAKE", env.MIN_STAKE, "must not exceed MAX_STAKE");
  // Every offered cell returns at most 1 − edge: a higher floor would offer nothing.
  if (config.minRtp > 1 - config.houseEdge + 1e-12) throw new ConfigError("MIN_RTP", env.MIN_RTP, `must not exceed 1 − HOUSE_EDGE (${1 - config.houseEdge})`);
  let databaseUrl: string | undefined;
  try {
    databaseUrl = databaseUrlOf(env);
  } catch (error) {
    throw new ConfigError("DATABASE_URL", "(not shown: it may hold a password)", (error as Error).message);
  }
  return { ...config, redisUrl: redisUrlFrom(env), sessionSecret: readSessionSecret(env), priceSigningKey: readPriceSigningKey(env), databaseUrl };
}
