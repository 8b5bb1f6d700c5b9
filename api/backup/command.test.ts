import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTempStore } from "../../test/support/temp-db.ts";
import { DAY_START, seedBooks } from "../report/_books-fixture.ts";
import { integrityCheck } from "./backup.ts";
import { runBackupCommand } from "./command.ts";
import { backupName, listBackups } from "./retention.ts";

function run(argv: string[], env: Record<string, string> = {}, now = () => DAY_START) {
  const out: string[] = [];
  const err: string[] = [];
  const status = runBackupCommand(argv, { env, now, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) });
  // SQLite's path answers synchronously: a number, never a promise.
  if (typeof status !== "number") throw new TypeError("runBackupCommand returned a promise on SQLite");
  return { status, stdout: out.join(""), stderr: err.join("") };
}

async function runAsync(argv: string[], env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runBackupCommand(argv, { env, now: () => DAY_START, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) });
  return { status, stdout: out.join(""), stderr: err.join("") };
}

describe("api backup", () => {
  test("writes a checked backup into backups/ beside DB_PATH and says so in one JSON line", () => {
    using db = openTempStore();
    seedBooks(db, 51);
    const result = run([], { DB_PATH: db.path });
    expect(result).toMatchObject({ status: 0, stderr: "" });
    const line = JSON.parse(result.stdout) as Record<string, unknown>;
    const path = join(db.path, "..", "backups", backupName(DAY_START));
    expect(line).toMatchObject({ level: "info", component: "backup", msg: "backup written and checked", db: db.path, path, integrity: "ok", keep: 28, pruned: [] });
    expect(integrityCheck(path)).toEqual(["ok"]);
  });

  test("--keep N leaves the newest N after each run", () => {
    using db = openTempStore();
    seedBooks(db, 52, { bets: 20 });
    const dir = mkdtempSync(join(tmpdir(), "tap-backups-"));
    try {
      let clock = DAY_START;
      const taken: string[] = [];
      for (let i = 0; i < 5; i++) {
        clock += 6 * 3_600_000;
        taken.push(backupName(clock));
        expect(run(["--db", db.path, "--dir", dir, "--keep", "2"], {}, () => clock).status).toBe(0);
        expect(listBackups(dir)).toEqual(taken.slice(-2));
      }
      // BACKUP_KEEP is the default when no flag is given.
      clock += 1000;
      expect(run(["--db", db.path, "--dir", dir], { BACKUP_KEEP: "1" }, () => clock).status).toBe(0);
      expect(readdirSync(dir)).toEqual([backupName(clock)]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("a database that is not there fails with exit 1 and an error line, writing nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "tap-backups-"));
    try {
      const result = run(["--db", join(dir, "missing.db"), "--dir", join(dir, "out")]);
      expect(result.status).toBe(1);
      expect(JSON.parse(result.stderr)).toMatchObject({ level: "error", component: "backup", msg: "backup failed", error: expect.stringContaining("no database at") });
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("a bad command line exits 2 with the usage; a bad setting 78 naming it", () => {
    for (const argv of [["--keep", "0"], ["--keep", "lots"], ["--dir", ""], ["--directory", "/tmp"]]) {
      const result = run(argv);
      expect({ argv, status: result.status }).toEqual({ argv, status: 2 });
      expect(result.stderr).toStartWith("api backup: ");
      expect(result.stderr).toContain("usage: api backup");
    }
    const bad = run([], { BACKUP_KEEP: "0" });
    expect(bad.status).toBe(78);
    expect(JSON.parse(bad.stderr)).toMatchObject({ variable: "BACKUP_KEEP", value: "0" });
  });

  test("with DATABASE_URL it dumps PostgreSQL: without pg_dump on PATH it exits 1 naming postgresql-client, never the password", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tap-backups-"));
    try {
      const result = await runAsync(["--dir", join(dir, "out")], { DATABASE_URL: "postgres://tap:pw-do-not-show@db.internal/tap", PATH: dir });
      expect(result).toMatchObject({ status: 1, stdout: "" });
      const line = JSON.parse(result.stderr) as Record<string, unknown>;
      expect(line).toMatchObject({ level: "error", component: "backup", msg: "backup failed", db: "postgres://***@db.internal/tap", error: expect.stringContaining("postgresql-client") });
      expect(result.stderr).not.toContain("pw-do-not-show");
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("--db backs up that SQLite file even when DATABASE_URL is set; a bad DATABASE_URL exits 78 without showing it", () => {
    using db = openTempStore();
    seedBooks(db, 53, { bets: 5 });
    const dir = mkdtempSync(join(tmpdir(), "tap-backups-"));
    try {
      const result = run(["--db", db.path, "--dir", dir], { DATABASE_URL: "postgres://tap@127.0.0.1:1/tap" });
      expect(result.status).toBe(0);
      expect(listBackups(dir)).toEqual([backupName(DAY_START)]);
      const bad = run(["--dir", dir], { DATABASE_URL: "mysql://tap:pw-do-not-show@db/tap" });
      expect(bad.status).toBe(78);
      expect(JSON.parse(bad.stderr)).toMatchObject({ variable: "DATABASE_URL" });
      expect(bad.stderr).not.toContain("pw-do-not-show");
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
