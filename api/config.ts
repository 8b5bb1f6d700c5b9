import { Type as t } from "@sinclair/typebox";
import { type ConfigOf, envVar, loadConfig, logLevelVar, Port, redisUrlFrom } from "../common/config.ts";

const Origin = t.String({ pattern: "^https?://[^/\\s,]+$" });

const spec = {
  port: envVar({ name: "PORT", schema: Port, fallback: 8080 }),
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
};

export type ApiConfig = ConfigOf<typeof spec> & { redisUrl: string };

/** The API's settings from the environment; throws a ConfigError naming the bad variable. */
export function readApiConfig(env: Record<string, string | undefined>): ApiConfig {
  return { ...loadConfig(spec, env), redisUrl: redisUrlFrom(env) };
}
