import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "./sqlite.ts";

const dirs: string[] = [];
function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "tap-store-"));
  dirs.push(dir);
  return join(dir, "nested", "bets.db");
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("openStore", () => {
  test("creates the file and its folder, in WAL mode with the safety pragmas", () => {
    const db = openStore(tempDbPath());
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(db.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });
    expect(db.query("PRAGMA synchronous").get()).toEqual({ synchronous: 1 });
    expect(db.query("PRAGMA busy_timeout").get()).toEqual({ timeout: 5000 });
    db.close();
  });

  test("applies migrations once and keeps data across reopen", () => {
    const path = tempDbPath();
    const first = openStore(path);
    expect(first.query("PRAGMA user_version").get()).toEqual({ user_version: 2 });
    first
      .query("INSERT INTO health_probe (id, token, checked_at) VALUES (1, 'x', 1)")
      .run();
    first.close();
    const again = openStore(path);
    expect(again.query("SELECT token FROM health_probe").get()).toEqual({ token: "x" });
    again.close();
  });

  test("applies only the migrations newer than the recorded version", () => {
    const path = tempDbPath();
    openStore(path, { migrations: [{ version: 1, name: "a", sql: "CREATE TABLE a (x INTEGER)" }] }).close();
    const db = openStore(path, {
      migrations: [
        { version: 1, name: "a", sql: "CREATE TABLE a (x INTEGER)" },
        { version: 2, name: "b", sql: "CREATE TABLE b (y INTEGER)" },
      ],
    });
    expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: 2 });
    db.close();
  });
});
