import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrations } from "./migrations.ts";
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

  test("sync full fsyncs every commit (synchronous = FULL); normal is the default", () => {
    const full = openStore(tempDbPath(), { sync: "full" });
    expect(full.query("PRAGMA synchronous").get()).toEqual({ synchronous: 2 });
    full.close();
    const normal = openStore(tempDbPath(), { sync: "normal" });
    expect(normal.query("PRAGMA synchronous").get()).toEqual({ synchronous: 1 });
    normal.close();
  });

  test("applies migrations once and keeps data across reopen", () => {
    const path = tempDbPath();
    const first = openStore(path);
    expect(first.query("PRAGMA user_version").get()).toEqual({ user_version: Math.max(...migrations.map((m) => m.version)) });
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

  test("rebuilding the bets table by window keeps every bet and ledger row, and their references", () => {
    const path = tempDbPath();
    const v2 = openStore(path, { migrations: migrations.filter((m) => m.version <= 2) });
    v2.run("INSERT INTO players (id, created_at, balance_cents) VALUES ('p1', 1, 0)");
    v2.run("INSERT INTO ledger (player_id, kind, amount_cents, created_at) VALUES ('p1', 'grant', 1000, 1)");
    for (const [id, tEnd] of [["b2", 20_000], ["b1", 30_000]] as const) {
      v2.run(
        `INSERT INTO bets (id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, created_at, balance_after_cents)
         VALUES (?1, 'p1', 100, ?2, ?3, 100, 200, 150, 1, 900)`,
        [id, tEnd - 5000, tEnd],
      );
      v2.run("INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES ('p1', 'stake', -100, ?1, 1)", [id]);
    }
    v2.close();

    const db = openStore(path);
    expect(db.query("SELECT id, t_end, status FROM bets ORDER BY t_end").all()).toEqual([
      { id: "b2", t_end: 20_000, status: "open" },
      { id: "b1", t_end: 30_000, status: "open" },
    ]);
    expect(db.query("SELECT balance_cents FROM players").get()).toEqual({ balance_cents: 800 });
    expect(db.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });
    expect(db.query("PRAGMA foreign_key_check").all()).toEqual([]);
    // The ledger still refers to bets, and ids stay unique.
    expect(() => db.run("INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES ('p1', 'payout', 150, 'nope', 2)")).toThrow(/FOREIGN KEY/);
    expect(() =>
      db.run(
        `INSERT INTO bets (id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, created_at, balance_after_cents)
         VALUES ('b1', 'p1', 100, 1, 2, 100, 200, 150, 1, 900)`,
      ),
    ).toThrow(/UNIQUE/);
    db.close();
  });
});
