import { describe, expect, test } from "bun:test";
import { ConfigError } from "../common/config.ts";
import { readApiConfig } from "./config.ts";

const base = { SESSION_SECRET: "config-test-secret-0123456789abcdef", REDIS_URL: "redis://127.0.0.1:6379" };

describe("money settings", () => {
  test("are read as cents from decimals with at most two places", () => {
    const config = readApiConfig({ ...base, STARTING_BALANCE: "19.99", MIN_STAKE: "0.07", MAX_STAKE: "100", BAND: "1.1" });
    expect(config).toMatchObject({ startingBalanceCents: 1999, minStakeCents: 7, maxStakeCents: 10_000, bandCents: 110 });
    expect(readApiConfig({ ...base, MAX_HOUSE_LIABILITY: "100000000000" }).maxHouseLiabilityCents).toBe(10_000_000_000_000);
  });

  test("with a third place, however far out, or not written as a plain decimal, stop the API naming the variable", () => {
    for (const raw of ["1.999", "10.001", "1.999999999", "99.99999999999999999", "1e2", "0x10", "1,5", "-1"]) {
      expect(() => readApiConfig({ ...base, STARTING_BALANCE: raw })).toThrow(ConfigError);
      expect(() => readApiConfig({ ...base, STARTING_BALANCE: raw })).toThrow(/^STARTING_BALANCE=/);
    }
  });
});

describe("HOST", () => {
  test("is 127.0.0.1 unless set, so only nginx and the host reach the API", () => {
    expect(readApiConfig(base).host).toBe("127.0.0.1");
    expect(readApiConfig({ ...base, HOST: "0.0.0.0" }).host).toBe("0.0.0.0");
    expect(readApiConfig({ ...base, HOST: "::" }).host).toBe("::");
    expect(readApiConfig({ ...base, HOST: "localhost" }).host).toBe("localhost");
  });

  test("that is not an IP address or localhost stops the API naming the variable", () => {
    for (const raw of ["0.0.0.0:8080", "api.example.com", "127.0.0.256", "http://0.0.0.0"]) {
      expect(() => readApiConfig({ ...base, HOST: raw })).toThrow(ConfigError);
      expect(() => readApiConfig({ ...base, HOST: raw })).toThrow(/^HOST=/);
    }
  });
});

test("DB_SYNC is full unless set to normal; anything else is refused, naming it", () => {
  expect(readApiConfig(base).dbSync).toBe("full");
  expect(readApiConfig({ ...base, DB_SYNC: "normal" }).dbSync).toBe("normal");
  expect(() => readApiConfig({ ...base, DB_SYNC: "off" })).toThrow(/^DB_SYNC=/);
});

test("MIN_RTP lies between 0.5 and 1 − HOUSE_EDGE; outside, it is refused with a ConfigError (exit 78), naming it", () => {
  expect(readApiConfig(base).minRtp).toBe(0.9);
  expect(readApiConfig({ ...base, MIN_RTP: "0.95" }).minRtp).toBe(0.95);
  for (const raw of ["0.96", "0.4", "1.2", "x"]) {
    expect(() => readApiConfig({ ...base, MIN_RTP: raw })).toThrow(ConfigError);
    expect(() => readApiConfig({ ...base, MIN_RTP: raw })).toThrow(/^MIN_RTP=/);
  }
  expect(readApiConfig({ ...base, MIN_RTP: "0.97", HOUSE_EDGE: "0.03" }).minRtp).toBe(0.97);
});

test("QUOTE_HORIZON_MS is 1000 unless set, 0 to 10,000; anything else is refused, naming it", () => {
  expect(readApiConfig(base).quoteHorizonMs).toBe(1000);
  expect(readApiConfig({ ...base, QUOTE_HORIZON_MS: "0" }).quoteHorizonMs).toBe(0);
  for (const raw of ["-1", "10001", "1.5", "soon"]) expect(() => readApiConfig({ ...base, QUOTE_HORIZON_MS: raw })).toThrow(/^QUOTE_HORIZON_MS=/);
});

describe("DATABASE_URL", () => {
  test("a postgres URL chooses PostgreSQL, unset or empty keeps SQLite", () => {
    expect(readApiConfig({ ...base, DATABASE_URL: "postgres://tap@db.internal:5432/tap" }).databaseUrl).toBe("postgres://tap@db.internal:5432/tap");
    expect(readApiConfig(base).databaseUrl).toBeUndefined();
    expect(readApiConfig({ ...base, DATABASE_URL: "  " }).databaseUrl).toBeUndefined();
  });

  test("anything else is refused naming the variable, without echoing the URL (it may hold a password)", () => {
    for (const raw of ["mysql://tap:secret@db/tap", "not a url secret", "sqlite:///tmp/secret.db"]) {
      let error: unknown;
      try {
        readApiConfig({ ...base, DATABASE_URL: raw });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe("DATABASE_URL");
      expect((error as Error).message).not.toContain("secret");
    }
  });
});

test("PG_BATCHES_IN_FLIGHT is 2 unless set, 1 to 8; anything else is refused, naming it", () => {
  expect(readApiConfig(base).pgBatchesInFlight).toBe(2);
  expect(readApiConfig({ ...base, PG_BATCHES_IN_FLIGHT: "1" }).pgBatchesInFlight).toBe(1);
  for (const raw of ["0", "9", "2.5", "many"]) expect(() => readApiConfig({ ...base, PG_BATCHES_IN_FLIGHT: raw })).toThrow(/^PG_BATCHES_IN_FLIGHT=/);
});
