import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backupName, listBackups, pruneBackups } from "./retention.ts";

const T = Date.UTC(2026, 11, 2, 6, 0, 0, 123);

function folder(names: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "tap-retention-"));
  for (const name of names) writeFileSync(join(dir, name), "x");
  return dir;
}

describe("backup names", () => {
  test("are UTC to the millisecond and sort as the times they were taken", () => {
    expect(backupName(T)).toBe("bets-2026-12-02T060000.123Z.db");
    const times = [T + 86_400_000, T, T + 1, T + 3_600_000 * 5, T - 1];
    const name = (ms: number) => backupName(ms);
    expect(times.map(name).sort()).toEqual([...times].sort((a, b) => a - b).map(name));
  });

  test("a PostgreSQL dump is named alike, ending .dump", () => {
    expect(backupName(T, "dump")).toBe("bets-2026-12-02T060000.123Z.dump");
  });
});

describe("pruneBackups", () => {
  test("keeps the newest N backups and nothing else of theirs; other files are left alone", () => {
    const backups = [0, 1, 2, 3, 4].map((i) => backupName(T + i * 6 * 3_600_000));
    const dir = folder([...backups].reverse().concat(["notes.txt", "bets.db", "bets-manual.db"]));
    try {
      expect(pruneBackups(dir, { keep: 3, now: T }).sort()).toEqual(backups.slice(0, 2));
      expect(listBackups(dir)).toEqual(backups.slice(2));
      expect(readdirSync(dir).sort()).toEqual([...backups.slice(2), "bets-manual.db", "bets.db", "notes.txt"].sort());
      expect(pruneBackups(dir, { keep: 3, now: T })).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("SQLite files and PostgreSQL dumps are one series: the newest N of both are kept", () => {
    const backups = [0, 1, 2, 3].map((i) => backupName(T + i * 6 * 3_600_000, i < 2 ? "db" : "dump"));
    const dir = folder([...backups, "bets-manual.dump"]);
    try {
      expect(listBackups(dir)).toEqual(backups);
      expect(pruneBackups(dir, { keep: 3, now: T })).toEqual(backups.slice(0, 1));
      expect(readdirSync(dir).sort()).toEqual([...backups.slice(1), "bets-manual.dump"].sort());
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("deletes a temp file a dead run left an hour ago, not one being written", () => {
    const stale = `.${backupName(T)}.41.tmp`;
    const fresh = `.${backupName(T + 1)}.42.tmp`;
    const dir = folder([stale, fresh]);
    try {
      const now = Date.now();
      utimesSync(join(dir, stale), new Date(now - 2 * 3_600_000), new Date(now - 2 * 3_600_000));
      expect(pruneBackups(dir, { keep: 5, now })).toEqual([stale]);
      expect(readdirSync(dir)).toEqual([fresh]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("refuses to keep fewer than one", () => {
    expect(() => pruneBackups(tmpdir(), { keep: 0, now: T })).toThrow(RangeError);
  });
});
