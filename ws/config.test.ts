import { expect, test } from "bun:test";
import { ConfigError } from "../common/config.ts";
import { readWsConfig } from "./config.ts";

test("defaults", () => {
  expect(readWsConfig({})).toEqual({
    port: 8081,
    host: "127.0.0.1",
    logLevel: "info",
    idleTimeoutS: 60,
    backpressureLimitBytes: 131072,
    slowClientGraceMs: 3000,
    maxConnections: 10_000,
    maxMessagesPerS: 50,
    priceShards: 10,
    gridSpreadMs: 0,
    redisUrl: "redis://127.0.0.1:6379",
    sessionSecret: undefined,
    priceSigningKey: undefined,
  });
});

test("WS_GRID_SPREAD_MS is 0 to 400 ms; anything else is refused, naming it", () => {
  expect(readWsConfig({ WS_GRID_SPREAD_MS: "200" }).gridSpreadMs).toBe(200);
  for (const raw of ["-1", "401", "1.5", "soon"]) expect(() => readWsConfig({ WS_GRID_SPREAD_MS: raw })).toThrow(/WS_GRID_SPREAD_MS/);
});

test("the price signing key is optional, but checked when given", () => {
  expect(readWsConfig({ PRICE_SIGNING_KEY: "p".repeat(32) }).priceSigningKey).toBe("p".repeat(32));
  expect(() => readWsConfig({ PRICE_SIGNING_KEY: "short" })).toThrow(ConfigError);
});

test("the session secret is optional, but checked when given", () => {
  expect(readWsConfig({ SESSION_SECRET: "s".repeat(32) }).sessionSecret).toBe("s".repeat(32));
  expect(() => readWsConfig({ SESSION_SECRET: "short" })).toThrow(ConfigError);
});

test("reads the variables, REDIS_ADDR included", () => {
  expect(readWsConfig({ PORT: "9001", WS_IDLE_TIMEOUT_S: "20", WS_MAX_CONNECTIONS: "5000", WS_SLOW_CLIENT_GRACE_MS: "1500", REDIS_ADDR: "redis.internal:6380" })).toMatchObject({
    port: 9001,
    idleTimeoutS: 20,
    slowClientGraceMs: 1500,
    maxConnections: 5000,
    redisUrl: "redis://redis.internal:6380",
  });
});

test("a bad value names its variable", () => {
  for (const [name, value] of [["PORT", "abc"], ["WS_IDLE_TIMEOUT_S", "1"], ["WS_MAX_MESSAGES_PER_S", "0"], ["WS_BACKPRESSURE_LIMIT_BYTES", "1.5"], ["WS_SLOW_CLIENT_GRACE_MS", "100"], ["WS_SLOW_CLIENT_GRACE_MS", "soon"]]) {
    const read = () => readWsConfig({ [name!]: value });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(name);
  }
});

test("listens on 127.0.0.1 unless HOST names another address of the machine", () => {
  expect(readWsConfig({}).host).toBe("127.0.0.1");
  expect(readWsConfig({ HOST: "0.0.0.0" }).host).toBe("0.0.0.0");
  expect(readWsConfig({ HOST: "[::1]" }).host).toBe("::1");
  for (const bad of ["0.0.0.0:8081", "every", "256.0.0.1"]) expect(() => readWsConfig({ HOST: bad })).toThrow(/^HOST=/);
});
