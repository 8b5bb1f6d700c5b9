import { readFileSync, statSync } from "node:fs";
import { isIP } from "node:net";
import { createRedactor, redactUrl } from "./redact.ts";
import { type Static, type TSchema, Type as t } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";

/** Exit status for a configuration error (sysexits EX_CONFIG); systemd shows it as such. */
const EXIT_CONFIG = 78;

/**
 * A configuration variable that is missing, malformed or out of range; its
 * message names the variable and the value.
 *
 * ```ts
 * new ConfigError("PORT", "http", "must be an integer").message; // 'PORT="http": must be an integer'
 * ```
 */
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

/**
 * How one setting is read from the environment.
 *
 * ```ts
 * const port: EnvVar<typeof Port> = { name: "PORT", schema: Port, fallback: 8080 };
 * ```
 */
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

/**
 * A service's settings: each config key and the variable it is read from.
 *
 * ```ts
 * const spec = { port: envVar({ name: "PORT", schema: Port, fallback: 8080 }), logLevel: logLevelVar } satisfies ConfigSpec;
 * ```
 */
export type ConfigSpec = Record<string, EnvVar>;
/**
 * The parsed config `loadConfig` returns for a spec: each key with its schema's type.
 *
 * ```ts
 * type Config = ConfigOf<typeof spec>; // { port: number; logLevel: "fatal" | "error" | … | "silent" }
 * ```
 */
export type ConfigOf<S extends ConfigSpec> = { [K in keyof S]: Static<S[K]["schema"]> };

/**
 * Declares one variable, keeping its schema's static type (so `fallback` is checked against it).
 *
 * ```ts
 * const retention = envVar({ name: "PRICE_RETENTION_MS", schema: t.Integer({ minimum: 100 }), fallback: 3_600_000 });
 * ```
 */
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
      if (variable.parse) value = variable.parse(raw.trim());
      else {
        value = Value.Convert(variable.schema, raw.trim());
        // TypeBox converts "1.5" to the integer 1: a number that is not what was written is refused, not truncated.
        if (typeof value === "number" && value !== Number(raw.trim())) value = raw.trim();
      }
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

/**
 * A TCP port; 0 (any free port) included.
 *
 * ```ts
 * envVar({ name: "PORT", schema: Port, fallback: 8080 });
 * ```
 */
export const Port = t.Integer({ minimum: 0, maximum: 65535 });
/** The log levels `LOG_LEVEL` accepts. */
const LogLevel = t.Union([
  t.Literal("fatal"),
  t.Literal("error"),
  t.Literal("warn"),
  t.Literal("info"),
  t.Literal("debug"),
  t.Literal("trace"),
  t.Literal("silent"),
]);
/**
 * A Redis URL, `redis://` or `rediss://` (TLS).
 *
 * ```ts
 * Value.Check(RedisUrl, "redis://127.0.0.1:6379"); // true
 * ```
 */
export const RedisUrl = t.String({ pattern: "^rediss?://" });

/**
 * `LOG_LEVEL`, shared by every service: one of `fatal` … `trace` or `silent`, `info` when unset.
 *
 * ```ts
 * const spec = { port: envVar({ name: "PORT", schema: Port, fallback: 8082 }), logLevel: logLevelVar };
 * ```
 */
export const logLevelVar = envVar({ name: "LOG_LEVEL", schema: LogLevel, fallback: "info" });

/**
 * `HOST`, the address a service's HTTP port listens on: an IP address of this
 * machine (`0.0.0.0` or `::` for every interface) or `localhost`. `127.0.0.1`
 * when unset, so only nginx and the host itself reach api and ws; the
 * multi-host case sets `0.0.0.0` (README, "Configuration").
 *
 * ```ts
 * loadConfig({ host: hostVar }, { HOST: "0.0.0.0" }).host; // "0.0.0.0"
 * loadConfig({ host: hostVar }, {}).host; // "127.0.0.1"
 * ```
 */
export const hostVar = envVar({
  name: "HOST",
  schema: t.String({ minLength: 1 }),
  fallback: "127.0.0.1",
  parse: (raw) => {
    // An IPv6 address may come bracketed, as in a URL.
    const address = raw.replace(/^\[(.*)\]$/, "$1");
    if (address !== "localhost" && isIP(address) === 0) throw new Error("must be an IP address (127.0.0.1, 0.0.0.0, ::) or localhost");
    return address;
  },
});

/**
 * The Redis URL from `REDIS_URL` (wins) or `REDIS_ADDR` (the production units'
 * `host:port`), with the credentials of `REDIS_USERNAME` and `REDIS_PASSWORD`
 * or `REDIS_PASSWORD_FILE` (see `redisCredentialsFrom`) put into it, so every
 * connection made from it authenticates. A `REDIS_URL` that holds credentials
 * of its own (`redis://:pw@host`, `rediss://user:pw@host`) is used as it is and
 * those variables are not read: the units set them for every service (its ACL
 * user on the local Redis), and the URL an operator wrote for a remote Redis
 * must win over those defaults. Log it only through `redactRedisUrl`.
 *
 * ```ts
 * redisUrlFrom({ REDIS_ADDR: "localhost:6379", REDIS_USERNAME: "tap-ws", REDIS_PASSWORD: "s3cret" });
 * // "redis://tap-ws:s3cret@localhost:6379"
 * redisUrlFrom({ REDIS_URL: "redis://:pw@10.0.0.5:6380", REDIS_USERNAME: "tap-ws", REDIS_PASSWORD: "s3cret" });
 * // "redis://:pw@10.0.0.5:6380"
 * ```
 */
export function redisUrlFrom(env: Record<string, string | undefined>): string {
  const url = redisAddressFrom(env);
  if (urlHoldsCredentials(url)) return url;
  return withRedisCredentials(url, redisCredentialsFrom(env));
}

/** Whether a Redis URL has user info besides an empty one (`redis://@h`, `redis://:@h`). */
function urlHoldsCredentials(url: string): boolean {
  // Up to the last "@", as redactUrl reads it: a password written unencoded may hold "@" or "/".
  const userinfo = /^rediss?:\/\/(.*)@/.exec(url)?.[1];
  return userinfo !== undefined && userinfo !== "" && userinfo !== ":";
}

function redisAddressFrom(env: Record<string, string | undefined>): string {
  const url = env.REDIS_URL?.trim();
  if (url) {
    if (!/^rediss?:\/\/[^\s]+$/.test(url)) throw new ConfigError("REDIS_URL", redactRedisUrl(url), "must look like redis://host:port");
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
 * Who a service is to Redis: its ACL user (or `default` when unnamed) and password.
 *
 * ```ts
 * const credentials: RedisCredentials = { username: "tap-api", password: "s3cret" };
 * ```
 */
export interface RedisCredentials {
  username?: string;
  password?: string;
}

/**
 * `REDIS_USERNAME` and the password: `REDIS_PASSWORD`, or the first line of the
 * file named by `REDIS_PASSWORD_FILE` (mode 0600 or stricter, as
 * `readSecretFile` checks). A username needs a password; a password alone
 * authenticates as Redis's `default` user. Empty when neither is set.
 *
 * ```ts
 * redisCredentialsFrom({ REDIS_USERNAME: "tap-api", REDIS_PASSWORD: "s3cret" }); // { username: "tap-api", password: "s3cret" }
 * redisCredentialsFrom({}); // {}
 * ```
 */
export function redisCredentialsFrom(env: Record<string, string | undefined>): RedisCredentials {
  const username = env.REDIS_USERNAME?.trim();
  const inline = env.REDIS_PASSWORD?.trim();
  const file = env.REDIS_PASSWORD_FILE?.trim();
  if (username && /\s/.test(username)) throw new ConfigError("REDIS_USERNAME", username, "must be one word (an ACL user name)");
  if (inline && file) throw new ConfigError("REDIS_PASSWORD_FILE", file, "set REDIS_PASSWORD or REDIS_PASSWORD_FILE, not both");
  const password = file ? readSecretFile("REDIS_PASSWORD_FILE", file) : inline;
  if (username && !password) throw new ConfigError("REDIS_PASSWORD_FILE", undefined, "is required with REDIS_USERNAME (or REDIS_PASSWORD)");
  return { ...(username ? { username } : {}), ...(password ? { password } : {}) };
}

const URL_PARTS = /^(rediss?:\/\/)(?:[^@/]*@)?(.*)$/;

/** `url` with `credentials` as its user info (a URL without credentials of its own, see `redisUrlFrom`). */
function withRedisCredentials(url: string, { username, password }: RedisCredentials): string {
  if (password === undefined) return url;
  const [, scheme, rest] = URL_PARTS.exec(url) as unknown as [string, string, string];
  return `${scheme}${encodeURIComponent(username ?? "")}:${encodeURIComponent(password)}@${rest}`;
}

/**
 * A Redis URL fit for a log line: its user info (the password) replaced by `***`
 * (`redactUrl` of common/redact.ts, which the logger also applies to every line).
 *
 * ```ts
 * redactRedisUrl("redis://tap-api:s3cret@10.0.0.5:6379"); // "redis://***@10.0.0.5:6379"
 * ```
 */
export function redactRedisUrl(url: string): string {
  return redactUrl(url);
}

/**
 * The first line of a file that holds a secret, trimmed. The file must not be
 * readable by group or others (mode 0600 or stricter; systemd's credentials
 * are 0400), and must not be empty; `variable` names the setting in the error.
 *
 * ```ts
 * const password = readSecretFile("REDIS_PASSWORD_FILE", "/run/credentials/tap-trading-api.service/redis-password");
 * ```
 */
export function readSecretFile(variable: string, file: string): string {
  let mode: number;
  let line: string;
  try {
    mode = statSync(file).mode;
    line = readFileSync(file, "utf8").split("\n", 1)[0]?.trim() ?? "";
  } catch (error) {
    throw new ConfigError(variable, file, `cannot be read: ${(error as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(variable, file, `must not be readable by group or others (mode ${(mode & 0o777).toString(8)}; use 0600)`);
  }
  if (!line) throw new ConfigError(variable, file, "is empty: the secret is its first line");
  return line;
}

/**
 * Runs `read` and, on a `ConfigError`, prints it and exits with `EXIT_CONFIG`:
 * a service with a bad setting must not start half-configured.
 *
 * ```ts
 * const config = configOrExit("price", () => readPriceConfig(process.env));
 * ```
 */
export function configOrExit<T>(component: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const line = JSON.stringify({ level: "fatal", component, msg: `bad configuration: ${error.message}`, variable: error.variable, value: error.value ?? null });
    // Written before any logger exists; a URL's password in the value still never shows.
    process.stderr.write(`${createRedactor()(line)}\n`);
    process.exit(EXIT_CONFIG);
  }
}
