import { describe, expect, test } from "bun:test";
import { ConfigError } from "../../common/config.ts";
import { commandDatabaseUrl, hideUrlPassword } from "./database-url.ts";

describe("commandDatabaseUrl", () => {
  test("reads DATABASE_URL as the API does: unset or empty is SQLite, a postgres URL is taken as given", () => {
    expect(commandDatabaseUrl({})).toBeUndefined();
    expect(commandDatabaseUrl({ DATABASE_URL: " " })).toBeUndefined();
    expect(commandDatabaseUrl({ DATABASE_URL: "postgresql://tap:pw@db/tap" })).toBe("postgresql://tap:pw@db/tap");
  });

  test("a bad one is a ConfigError naming the variable that never shows the value", () => {
    let error: unknown;
    try {
      commandDatabaseUrl({ DATABASE_URL: "mysql://tap:hunter2-secret@db/tap" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe("DATABASE_URL");
    expect((error as Error).message).not.toContain("hunter2");
  });
});

describe("hideUrlPassword", () => {
  test("hides the password as written, decoded and encoded, and any URL's user info, short passwords too", () => {
    const url = "postgres://tap:p%40ss@db.internal:5432/tap";
    expect(hideUrlPassword(`failed for ${url}`, url)).toBe("failed for postgres://***@db.internal:5432/tap");
    expect(hideUrlPassword('password "p@ss" refused; raw p%40ss', url)).toBe('password "***" refused; raw ***');
    expect(hideUrlPassword("no secret here", url)).toBe("no secret here");
  });

  test("a URL without a password leaves the text alone (but for URLs' user info)", () => {
    expect(hideUrlPassword("role tap refused", "postgres://tap@db/tap")).toBe("role tap refused");
  });
});
