import { describe, expect, test } from "bun:test";
import { databaseUrlOf } from "./postgres.ts";

describe("databaseUrlOf", () => {
  test("no DATABASE_URL, or an empty one, means the SQLite store", () => {
    expect(databaseUrlOf({})).toBeUndefined();
    expect(databaseUrlOf({ DATABASE_URL: "  " })).toBeUndefined();
  });

  test("a postgres:// or postgresql:// URL is taken as given", () => {
    expect(databaseUrlOf({ DATABASE_URL: "postgres://tap@127.0.0.1:5432/tap" })).toBe("postgres://tap@127.0.0.1:5432/tap");
    expect(databaseUrlOf({ DATABASE_URL: "postgresql://tap:secret@db.internal/tap?sslmode=require" })).toBe(
      "postgresql://tap:secret@db.internal/tap?sslmode=require",
    );
  });

  test("anything else stops the service with a message naming the variable", () => {
    expect(() => databaseUrlOf({ DATABASE_URL: "mysql://tap@127.0.0.1/tap" })).toThrow("DATABASE_URL must start with postgres:// or postgresql://, not mysql://");
    expect(() => databaseUrlOf({ DATABASE_URL: "/data/bets.db" })).toThrow("DATABASE_URL is not a URL");
  });
});
