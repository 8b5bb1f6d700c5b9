import { describe, expect, test } from "bun:test";
import { Type as t } from "@sinclair/typebox";
import { ConfigError, envVar, loadConfig, Port, redisUrlFrom } from "./config.ts";

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
  test("a variable without fallback is required", () => {
    expect(() => loadConfig({ db: envVar({ name: "DB_PATH", schema: t.String() }) }, {})).toThrow(/DB_PATH.*required/);
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
