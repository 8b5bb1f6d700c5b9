import { Type as t } from "@sinclair/typebox";
import { isAbsolute, join } from "node:path";
import { envVar, loadConfig, logLevelVar, redisUrlFrom } from "../../common/config.ts";

const ListenPort = t.Integer({ minimum: 1, maximum: 65535 });

const spec = {
  apiPort: envVar({ name: "API_PORT", schema: ListenPort, fallback: 8080 }),
  wsPort: envVar({ name: "WS_PORT", schema: ListenPort, fallback: 8081 }),
  /** price's /healthz, which make run reads to tell live exchanges from none; any free port when this one is taken. */
  pricePort: envVar({ name: "PRICE_PORT", schema: ListenPort, fallback: 8082 }),
  /** Where the local redis-server would like to listen; any free port when this one is taken. */
  redisPort: envVar({ name: "REDIS_PORT", schema: ListenPort, fallback: 6390 }),
  /** nginx's port; 0 picks one: 80 as root when it is free, else 8000 or any free port. */
  httpPort: envVar({ name: "HTTP_PORT", schema: t.Integer({ minimum: 0, maximum: 65535 }), fallback: 0 }),
  runDir: envVar({ name: "RUN_DIR", schema: t.String({ minLength: 1 }), fallback: ".run" }),
  logLevel: logLevelVar,
};

/** What `make run` starts, and with which settings. */
export interface RunConfig {
  apiPort: number;
  wsPort: number;
  redisPort: number;
  /** The preferred port of price's /healthz. */
  pricePort: number;
  /**
   * `PRICE_SOURCE` as the user set it; undefined means make run's own choice:
   * the exchanges, or simulated prices when none answers in time. Checked by price itself.
   */
  priceSource: string | undefined;
  /** The port nginx must listen on; undefined lets `make run` pick one. */
  httpPort: number | undefined;
  /** Absolute; holds the database, the built page, nginx's prefix and the local Redis' working folder. */
  runDir: string;
  /** The Redis to use; undefined means start a local one. */
  redisUrl: string | undefined;
  /** The environment every service gets on top of the supervisor's own. */
  serviceEnv: Record<string, string>;
}

/**
 * Reads the supervisor's settings; throws a `ConfigError` naming a bad variable.
 * Service settings it does not own (PRICE_INTERVAL_MS, PRICE_SOURCE, …) pass
 * through untouched for the services to check.
 *
 * ```ts
 * const config = readRunConfig(process.env, "/work/main"); // { apiPort: 8080, wsPort: 8081, redisUrl: undefined, … }
 * ```
 */
export function readRunConfig(env: Record<string, string | undefined>, root: string): RunConfig {
  const config = loadConfig(spec, env);
  const runDir = isAbsolute(config.runDir) ? config.runDir : join(root, config.runDir);
  const hasRedis = Boolean(env.REDIS_URL?.trim() || env.REDIS_ADDR?.trim());
  const serviceEnv: Record<string, string> = {
    DB_PATH: env.DB_PATH?.trim() || join(runDir, "data", "bets.db"),
    LOG_LEVEL: config.logLevel,
    CORS_ORIGINS: env.CORS_ORIGINS?.trim() || `http://localhost,http://localhost:${config.apiPort}`,
  };
  // The API needs a key for session tokens; unless one is given, make run keeps its own in the run folder.
  if (!env.SESSION_SECRET?.trim() && !env.SESSION_SECRET_FILE?.trim()) serviceEnv.SESSION_SECRET_FILE = join(runDir, "session-secret");
  return {
    apiPort: config.apiPort,
    wsPort: config.wsPort,
    redisPort: config.redisPort,
    pricePort: config.pricePort,
    priceSource: env.PRICE_SOURCE?.trim() || undefined,
    httpPort: config.httpPort === 0 ? undefined : config.httpPort,
    runDir,
    redisUrl: hasRedis ? redisUrlFrom(env) : undefined,
    serviceEnv,
  };
}

/**
 * The environment of one service: the caller's, less the variables the
 * supervisor decides (a stray PORT or REDIS_ADDR must not leak into every
 * child), plus `serviceEnv`, `REDIS_URL` and the service's own `PORT`.
 */
export function serviceEnvironment(
  base: Record<string, string | undefined>,
  config: RunConfig,
  redisUrl: string,
  port?: number,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && key !== "PORT" && key !== "REDIS_ADDR") env[key] = value;
  }
  Object.assign(env, config.serviceEnv, { REDIS_URL: redisUrl });
  if (port !== undefined) env.PORT = String(port);
  return env;
}
