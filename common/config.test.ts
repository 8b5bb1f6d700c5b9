import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Type as t } from "@sinclair/typebox";
import Redis from "ioredis";
import { ConfigError, envVar, hostVar, loadConfig, Port, readSecretFile, redactRedisUrl, redisCredentialsFrom, redisUrlFrom } from "./config.ts";

const spec = {
  port: envVar({ name: "PORT", schema: Port, fallback: 8080 }),
  verbose: envVar({ name: "VERBOSE", schema: t.Boolean(), fallback: false }),
  origins: envVar({ name: "ORIGINS", schema: t.Array(t.String({ minLength: 1 })), fallback: ["x"], parse: (raw) => raw.split(",") }),
};

describe("loadConfig", () => {
  test("uses fallbacks for unset and empty variables", () => {
    expect(loadConfig(spec, { VERBOSE: "" })).toEqual({ port: 8080, verbose: false, origins: ["x"] });
  });
  test("converts numbers, booleans and custom-parsed values", () => {
    expect(loadConfig(spec, { PORT: "9000", VERBOSE: "true", ORIGINS: "a,b" })).toEqual({
      port: 9000,
      verbose: true,
      origins: ["a", "b"],
    });
  });
  test("names the variable and the value that is wrong", () => {
    const read = () => loadConfig(spec, { PORT: "eighty" });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/PORT="eighty"/);
    expect(() => loadConfig(spec, { PORT: "70000" })).toThrow(/PORT="70000"/);
  });
  test("an integer written with a fraction is refused, not truncated", () => {
    expect(() => loadConfig(spec, { PORT: "8080.5" })).toThrow(/PORT="8080.5": Expected integer/);
    expect(loadConfig(spec, { PORT: "8080" }).port).toBe(8080);
  });
  test("a variable without fallback is required", () => {
    expect(() => loadConfig({ db: envVar({ name: "DB_PATH", schema: t.String() }) }, {})).toThrow(/DB_PATH.*required/);
  });
});

describe("hostVar", () => {
  test("127.0.0.1 unless set; an IPv4 or IPv6 address (bracketed or not) or localhost", () => {
    const host = (HOST?: string) => loadConfig({ host: hostVar }, { HOST }).host;
    expect(host()).toBe("127.0.0.1");
    expect(host("0.0.0.0")).toBe("0.0.0.0");
    expect(host(" 10.1.2.3 ")).toBe("10.1.2.3");
    expect(host("[::]")).toBe("::");
    expect(host("fe80::1")).toBe("fe80::1");
    expect(host("localhost")).toBe("localhost");
  });
  test("anything else names HOST and its value", () => {
    for (const raw of ["0.0.0.0:8080", "example.com", "1.2.3", "*"]) {
      expect(() => loadConfig({ host: hostVar }, { HOST: raw })).toThrow(`HOST=${JSON.stringify(raw)}`);
    }
  });
});

describe("redisUrlFrom", () => {
  test("prefers REDIS_URL, accepts REDIS_ADDR host:port, defaults to localhost", () => {
    expect(redisUrlFrom({ REDIS_URL: "redis://h:1", REDIS_ADDR: "x:2" })).toBe("redis://h:1");
    expect(redisUrlFrom({ REDIS_ADDR: "localhost:6379" })).toBe("redis://localhost:6379");
    expect(redisUrlFrom({})).toBe("redis://127.0.0.1:6379");
  });
  test("rejects a malformed address", () => {
    expect(() => redisUrlFrom({ REDIS_ADDR: "localhost" })).toThrow(/REDIS_ADDR/);
    expect(() => redisUrlFrom({ REDIS_URL: "http://x" })).toThrow(/REDIS_URL/);
  });
});

describe("Redis credentials", () => {
  const dir = mkdtempSync(join(tmpdir(), "tap-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const secretFile = (name: string, text: string, mode = 0o600) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    chmodSync(path, mode);
    return path;
  };

  test("REDIS_USERNAME and REDIS_PASSWORD_FILE (its first line) go into the URL", () => {
    const file = secretFile("api.password", "s3cret-from-file\nignored second line\n");
    expect(redisUrlFrom({ REDIS_ADDR: "localhost:6379", REDIS_USERNAME: "tap-api", REDIS_PASSWORD_FILE: file })).toBe("redis://tap-api:s3cret-from-file@localhost:6379");
    expect(redisUrlFrom({ REDIS_URL: "rediss://cache.internal:6380/0", REDIS_USERNAME: "tap-ws", REDIS_PASSWORD: "inline" })).toBe("rediss://tap-ws:inline@cache.internal:6380/0");
  });

  test("a password alone authenticates as the default user", () => {
    expect(redisUrlFrom({ REDIS_PASSWORD: "pw" })).toBe("redis://:pw@127.0.0.1:6379");
    expect(redisCredentialsFrom({ REDIS_PASSWORD: " pw " })).toEqual({ password: "pw" });
    expect(redisCredentialsFrom({ REDIS_USERNAME: "", REDIS_PASSWORD: "" })).toEqual({});
  });

  test("characters that mean something in a URL are percent-encoded, and ioredis reads them back", () => {
    const password = "p@ss:w/rd?#%+ é";
    const url = redisUrlFrom({ REDIS_ADDR: "h:1", REDIS_USERNAME: "tap-api", REDIS_PASSWORD: password });
    const redis = new Redis(url, { lazyConnect: true });
    expect({ username: redis.options.username, password: redis.options.password, host: redis.options.host, port: redis.options.port }).toEqual({
      username: "tap-api",
      password,
      host: "h",
      port: 1,
    });
    redis.disconnect();
  });

  test("a REDIS_URL with its own credentials wins over REDIS_USERNAME and REDIS_PASSWORD(_FILE), which are then not read", () => {
    expect(redisUrlFrom({ REDIS_URL: "redis://u:p@h:1" })).toBe("redis://u:p@h:1");
    // make run hands the services a REDIS_URL made from the same variables they also inherit.
    expect(redisUrlFrom({ REDIS_URL: "redis://u:p@h:1", REDIS_USERNAME: "u", REDIS_PASSWORD: "p" })).toBe("redis://u:p@h:1");
    // The installed units give every service its ACL user and a password file; an operator's remote
    // Redis with a password of its own (requirepass, or a user of its own) is reached with the URL's.
    const unitDefaults = { REDIS_USERNAME: "tap-api", REDIS_PASSWORD_FILE: secretFile("unit.password", "per-service-password\n") };
    expect(redisUrlFrom({ ...unitDefaults, REDIS_URL: "redis://:remote-pw@10.0.0.5:6380" })).toBe("redis://:remote-pw@10.0.0.5:6380");
    expect(redisUrlFrom({ ...unitDefaults, REDIS_URL: "rediss://ops:remote-pw@cache.internal:6380/0" })).toBe("rediss://ops:remote-pw@cache.internal:6380/0");
    // Not read: a password file the service could not open is no error beside the URL's credentials.
    expect(redisUrlFrom({ REDIS_URL: "redis://:remote-pw@h:1", REDIS_USERNAME: "tap-api", REDIS_PASSWORD_FILE: join(dir, "absent.password") })).toBe("redis://:remote-pw@h:1");
    // Empty user info is no credentials: the variables fill it in.
    expect(redisUrlFrom({ ...unitDefaults, REDIS_URL: "redis://:@h:1" })).toBe("redis://tap-api:per-service-password@h:1");
    expect(redisUrlFrom({ ...unitDefaults, REDIS_URL: "redis://h:1" })).toBe("redis://tap-api:per-service-password@h:1");
    // REDIS_ADDR carries no credentials: the variables always apply.
    expect(redisUrlFrom({ ...unitDefaults, REDIS_ADDR: "h:1" })).toBe("redis://tap-api:per-service-password@h:1");
  });

  test("both REDIS_PASSWORD and REDIS_PASSWORD_FILE, or a username without a password, is an error", () => {
    const file = secretFile("both.password", "x");
    expect(() => redisCredentialsFrom({ REDIS_PASSWORD: "x", REDIS_PASSWORD_FILE: file })).toThrow(/REDIS_PASSWORD_FILE=.*not both/);
    expect(() => redisCredentialsFrom({ REDIS_USERNAME: "tap-api" })).toThrow(/REDIS_PASSWORD_FILE.*required with REDIS_USERNAME/);
    expect(() => redisCredentialsFrom({ REDIS_USERNAME: "tap api", REDIS_PASSWORD: "x" })).toThrow(/REDIS_USERNAME="tap api"/);
  });

  test("the password file must exist, be private (0600 or 0400) and hold a password", () => {
    const missing = join(dir, "missing.password");
    expect(() => redisUrlFrom({ REDIS_USERNAME: "u", REDIS_PASSWORD_FILE: missing })).toThrow(/REDIS_PASSWORD_FILE=.*missing\.password.*cannot be read/);
    for (const mode of [0o640, 0o644, 0o604, 0o660]) {
      const file = secretFile(`mode-${mode.toString(8)}.password`, "s3cret", mode);
      const read = () => redisUrlFrom({ REDIS_USERNAME: "u", REDIS_PASSWORD_FILE: file });
      expect(read).toThrow(ConfigError);
      expect(read).toThrow(`mode ${mode.toString(8)}`);
      expect(read).not.toThrow(/s3cret/);
    }
    // systemd's credentials (LoadCredential=) are 0400.
    expect(readSecretFile("REDIS_PASSWORD_FILE", secretFile("credential", "from-systemd\n", 0o400))).toBe("from-systemd");
    expect(() => readSecretFile("REDIS_PASSWORD_FILE", secretFile("empty.password", "\n"))).toThrow(/REDIS_PASSWORD_FILE=.*is empty/);
  });

  test("a bad REDIS_URL is reported without its password", () => {
    expect(() => redisUrlFrom({ REDIS_URL: "redis://u:s3cret@h 1" })).toThrow(/REDIS_URL="redis:\/\/\*\*\*@h 1"/);
  });
});

describe("redactRedisUrl", () => {
  test("hides the user info, and leaves a URL without one alone", () => {
    expect(redactRedisUrl("redis://tap-api:s3cret@10.0.0.5:6379")).toBe("redis://***@10.0.0.5:6379");
    expect(redactRedisUrl("rediss://:s3cret@h:1/0")).toBe("rediss://***@h:1/0");
    expect(redactRedisUrl("redis://u:p@ss/w@rd@h:1")).toBe("redis://***@h:1");
    expect(redactRedisUrl("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
  });
});
