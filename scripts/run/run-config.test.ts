import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../common/config.ts";
import { readRunConfig, serviceEnvironment } from "./run-config.ts";

describe("readRunConfig", () => {
  test("defaults: ports 8080 and 8081, a local Redis under .run/, the database beside it", () => {
    const config = readRunConfig({}, "/repo");
    expect(config).toEqual({
      apiPort: 8080,
      wsPort: 8081,
      redisPort: 6390,
      pricePort: 8082,
      priceSource: undefined,
      httpPort: undefined,
      runDir: "/repo/.run",
      redisUrl: undefined,
      serviceEnv: {
        DB_PATH: "/repo/.run/data/bets.db",
        LOG_LEVEL: "info",
        CORS_ORIGINS: "http://localhost,http://localhost:8080",
        SESSION_SECRET_FILE: "/repo/.run/session-secret",
      },
    });
  });

  test("a given REDIS_URL or REDIS_ADDR means no local Redis", () => {
    expect(readRunConfig({ REDIS_URL: "redis://10.0.0.5:6379" }, "/repo").redisUrl).toBe("redis://10.0.0.5:6379");
    expect(readRunConfig({ REDIS_ADDR: "cache:6380" }, "/repo").redisUrl).toBe("redis://cache:6380");
  });

  test("settings the user gives win", () => {
    const config = readRunConfig(
      { API_PORT: "9080", WS_PORT: "9081", HTTP_PORT: "8088", RUN_DIR: "/tmp/x", LOG_LEVEL: "debug", DB_PATH: "/data/b.db", CORS_ORIGINS: "https://a.example", SESSION_SECRET: "s" },
      "/repo",
    );
    expect(config).toMatchObject({ apiPort: 9080, wsPort: 9081, httpPort: 8088, runDir: "/tmp/x" });
    expect(readRunConfig({ PRICE_PORT: "9082", PRICE_SOURCE: " mock " }, "/repo")).toMatchObject({ pricePort: 9082, priceSource: "mock" });
    expect(config.serviceEnv).toEqual({ DB_PATH: "/data/b.db", LOG_LEVEL: "debug", CORS_ORIGINS: "https://a.example" });
  });

  test("a bad value names its variable", () => {
    expect(() => readRunConfig({ API_PORT: "eighty" }, "/repo")).toThrow(ConfigError);
    expect(() => readRunConfig({ WS_PORT: "0" }, "/repo")).toThrow(/WS_PORT/);
    expect(() => readRunConfig({ LOG_LEVEL: "loud" }, "/repo")).toThrow(/LOG_LEVEL/);
    expect(() => readRunConfig({ HTTP_PORT: "-1" }, "/repo")).toThrow(/HTTP_PORT/);
    expect(() => readRunConfig({ PRICE_PORT: "x" }, "/repo")).toThrow(/PRICE_PORT/);
  });
});

test("serviceEnvironment keeps the caller's variables but decides PORT and Redis itself", () => {
  const config = readRunConfig({}, "/repo");
  const base = { PATH: "/bin", PORT: "1", REDIS_ADDR: "x:1", PRICE_INTERVAL_MS: "250" };
  expect(serviceEnvironment(base, config, "redis://127.0.0.1:6390", 8080)).toEqual({
    PATH: "/bin",
    PRICE_INTERVAL_MS: "250",
    ...config.serviceEnv,
    REDIS_URL: "redis://127.0.0.1:6390",
    PORT: "8080",
  });
  expect(serviceEnvironment(base, config, "redis://127.0.0.1:6390")).not.toHaveProperty("PORT");
});
