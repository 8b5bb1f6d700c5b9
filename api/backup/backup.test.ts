import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../common/store/sqlite.ts";
import { openTempStore } from "../../test/support/temp-db.ts";
import { DAY_START, seedBooks } from "../report/_books-fixture.ts";
import { backupDatabase, integrityCheck } from "./backup.ts";
import { backupName } from "./retention.ts";

const digest = (path: string) => new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
const count = (path: string, sql: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return (db.query(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe("backupDatabase", () => {
  test("copies what is committed, the -wal's part too, and not a transaction still open; no temp file is left", () => {
    using live = openTempStore();
    live.exec("PRAGMA wal_autocheckpoint = 0"); // everything stays in the -wal, as between two checkpoints
    const seeded = seedBooks(live, 41);
    // Another writer's transaction, not committed when the backup runs.
    const writer = new Database(live.path);
    writer.exec("PRAGMA wal_autocheckpoint = 0");
    writer.exec("BEGIN IMMEDIATE");
    writer.query("INSERT INTO players (id, created_at) VALUES ('uncommitted', 0)").run();
    const dir = mkdtempSync(join(tmpdir(), "tap-backup-"));
    try {
      const before = [digest(live.path), digest(`${live.path}-wal`)];
      const done = backupDatabase({ dbPath: live.path, dir, now: () => DAY_START });
      // The live database was only read.
      expect([digest(live.path), digest(`${live.path}-wal`)]).toEqual(before);
      writer.exec("COMMIT");

      expect(done.path).toBe(join(dir, backupName(DAY_START)));
      expect(readdirSync(dir)).toEqual([backupName(DAY_START)]);
      expect(integrityCheck(done.path)).toEqual(["ok"]);
      expect(count(done.path, "SELECT count(*) AS n FROM players")).toBe(seeded.players.length);
      expect(count(done.path, "SELECT count(*) AS n FROM bets")).toBe(seeded.bets.length);
      expect(count(done.path, "SELECT count(*) AS n FROM ledger")).toBe(count(live.path, "SELECT count(*) AS n FROM ledger"));
      expect(count(done.path, "SELECT count(*) AS n FROM players WHERE id = 'uncommitted'")).toBe(0);

      // What a file copy would have got: the main file alone, without what the -wal holds.
      const copy = join(dir, "copy.db");
      copyFileSync(live.path, copy);
      expect(count(copy, "SELECT count(*) AS n FROM sqlite_master WHERE name IN ('players', 'bets', 'ledger')")).toBe(0);
    } finally {
      writer.close();
      rmSync(dir, { recursive: true });
    }
  });

  test("the backup stands alone: opened by the store as a live database, it has the same books", () => {
    using live = openTempStore();
    seedBooks(live, 42);
    const dir = mkdtempSync(join(tmpdir(), "tap-backup-"));
    try {
      const { path } = backupDatabase({ dbPath: live.path, dir });
      const restored = openStore(path);
      const books = (db: Database) => db.query("SELECT id, balance_cents FROM players ORDER BY id").all();
      expect(books(restored)).toEqual(books(live));
      expect(restored.query("PRAGMA user_version").get()).toEqual(live.query("PRAGMA user_version").get() as object);
      restored.close();
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("a missing database is an error, and leaves no file behind", () => {
    const dir = mkdtempSync(join(tmpdir(), "tap-backup-"));
    try {
      expect(() => backupDatabase({ dbPath: join(dir, "nope.db"), dir: join(dir, "backups") })).toThrow(/no database at/);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe("integrityCheck", () => {
  test("says ok of a sound file and lists the damage of a corrupted one", () => {
    const dir = mkdtempSync(join(tmpdir(), "tap-integrity-"));
    try {
      const path = join(dir, "x.db");
      const db = new Database(path, { create: true });
      db.exec("PRAGMA page_size = 1024; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v);");
      const insert = db.prepare("INSERT INTO t (v) VALUES (?1)");
      db.transaction(() => {
        for (let i = 0; i < 2000; i++) insert.run(`value-${i}`);
      })();
      db.close();
      expect(integrityCheck(path)).toEqual(["ok"]);
      // Scribble over the middle of the file (index and table pages), as a torn copy would.
      const bytes = readFileSync(path);
      bytes.fill(0x5a, Math.floor(bytes.length / 2), Math.floor(bytes.length / 2) + 3000);
      writeFileSync(path, bytes);
      let problems: string[];
      try {
        problems = integrityCheck(path);
      } catch (error) {
        problems = [(error as Error).message];
      }
      expect(problems).not.toEqual(["ok"]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
