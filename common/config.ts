import { type Static, type TSchema, Type as t } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

/** Exit status for a configuration error (sysexits EX_CONFIG); systemd shows it as such. */
export const EXIT_CONFIG = 78;

/** A configuration variable that is missing, malformed or out of range. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly value: string | undefined,
    reason: string,
  ) {
    super(`${variable}=${JSON.stringify(value ?? "")}: ${reason}`);
    this.name = "ConfigError";
  }
}

/** How one setting is read from the environment. */
export interface EnvVar<S extends TSchema = TSchema> {
  /** The environment variable's name. */
  name: string;
  /** The accepted values, checked after `parse`. */
  schema: S;
  /** Used when the variable is unset or empty; without one the variable is required. */
  fallback?: Static<S>;
  /** Turns the raw string into the schema's shape; the default converts numbers and booleans. */
  parse?: (raw: string) => unknown;
}

export type ConfigSpec = Record<string, EnvVar>;
export type ConfigOf<S extends ConfigSpec> = { [K in keyof S]: Static<S[K]["schema"]> };

/** Declares one variable, keeping its schema's static type. */
export function envVar<S extends TSchema>(spec: EnvVar<S>): EnvVar<S> {
  return spec;
}

/**
 * Reads every variable of `spec` from `env` once, and throws a `ConfigError`
 * naming the first bad variable and its value.
 *
 * ```ts
 * const config = loadConfig({ port: envVar({ name: "PORT", schema: Port, fallback: 8080 }) }, process.env);
 * ```
 */
export function loadConfig<S extends ConfigSpec>(spec: S, env: Record<string, string | undefined>): ConfigOf<S> {
  const config: Record<string, unknown> = {};
  for (const [key, variable] of Object.entries(spec)) {
    const raw = env[variable.name];
    if (raw === undefined || raw.trim() === "") {
      if (variable.fallback === undefined) throw new ConfigError(variable.name, raw, "is required");
      config[key] = variable.fallback;
      continue;
    }
    let value: unknown;
    try {
      value = variable.parse ? variable.parse(raw.trim()) : Value.Convert(variable.schema, raw.trim());
    } catch (error) {
      throw new ConfigError(variable.name, raw, (error as Error).message);
    }
    const problem = Value.Errors(variable.schema, value).First();
    if (problem) throw new ConfigError(variable.name, raw, problem.message);
    config[key] = value;
  }
  return config as ConfigOf<S>;
}

// Schemas and variables the services share.

export const Port = t.Integer({ minimum: 0, maximum: 65535 });
export const LogLevel = t.Union([
  t.Literal("fatal"),
  t.Literal("error"),
  t.Literal("warn"),
  t.Literal("info"),
  t.Literal("debug"),
  t.Literal("trace"),
  t.Literal("silent"),
]);
export const RedisUrl = t.String({ pattern: "^rediss?://" });

export const logLevelVar = envVar({ name: "LOG_LEVEL", schema: LogLevel, fallback: "info" });

/** `REDIS_ADDR` is the production units' `host:port`; `REDIS_URL` wins when both are set. */
export function redisUrlFrom(env: Record<string, string | undefined>): string {
  const url = env.REDIS_URL?.trim();
  if (url) {
    if (!/^rediss?:\/\/[^\s]+$/.test(url)) throw new ConfigError("REDIS_URL", url, "must look like redis://host:port");
    return url;
  }
  const addr = env.REDIS_ADDR?.trim();
  if (addr) {
    const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/.exec(addr);
    if (!match || Number(match[2]) > 65535) throw new ConfigError("REDIS_ADDR", addr, "must be host:port");
    return `redis://${addr}`;
  }
  return "redis://127.0.0.1:6379";
}

/**
 * Runs `read` and, on a `ConfigError`, prints it and exits with `EXIT_CONFIG`:
 * a service with a bad setting must not start half-configured.
 */
export function configOrExit<T>(component: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(
      `${JSON.stringify({ level: "fatal", component, msg: `bad configuration: ${error.message}`, variable: error.variable, value: error.value ?? null })}\n`,
    );
    process.exit(EXIT_CONFIG);
  }
}
