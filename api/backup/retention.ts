import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * `bets-2026-12-02T060000.123Z.db` (SQLite) or `….dump` (pg_dump's custom
 * format, PostgreSQL): UTC, so names sort as times do, of either kind.
 */
const BACKUP_NAME = /^bets-\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z\.(db|dump)$/;
/** A backup being written: `.bets-….db.<pid>.tmp` (or `.dump`), renamed once complete and checked. */
const TEMP_NAME = /^\.bets-.*\.tmp$/;
/** A temp file this old is left over from a run that died: no backup takes an hour. */
const STALE_TEMP_MS = 3_600_000;

/**
 * The file name of a backup taken at `ms`: `.db` a SQLite file, `.dump` a
 * PostgreSQL dump.
 *
 * ```ts
 * backupName(Date.UTC(2026, 11, 2, 6)); // "bets-2026-12-02T060000.000Z.db"
 * backupName(Date.UTC(2026, 11, 2, 6), "dump"); // "bets-2026-12-02T060000.000Z.dump"
 * ```
 */
export function backupName(ms: number, extension: "db" | "dump" = "db"): string {
  const iso = new Date(ms).toISOString(); // 2026-12-02T06:00:00.000Z
  return `bets-${iso.slice(0, 10)}T${iso.slice(11, 19).replaceAll(":", "")}${iso.slice(19)}.${extension}`;
}

/**
 * The complete backups in `dir`, oldest first (temp files left out), SQLite
 * files and PostgreSQL dumps in one series: a store moved from one to the
 * other keeps `keep` backups in all.
 *
 * ```ts
 * listBackups("/data/backups"); // ["bets-2026-12-01T180000.004Z.db", "bets-2026-12-02T000000.002Z.db"]
 * ```
 */
export function listBackups(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => BACKUP_NAME.test(name))
    .sort();
}

/**
 * Keeps the newest `keep` backups in `dir` and deletes the older ones, and
 * any temp file a dead run left behind; returns the names deleted.
 *
 * ```ts
 * pruneBackups("/data/backups", { keep: 28, now: Date.now() }); // ["bets-2026-11-25T000000.001Z.db"]
 * ```
 */
export function pruneBackups(dir: string, { keep, now }: { keep: number; now: number }): string[] {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be a whole number of at least 1, got ${keep}`);
  const backups = listBackups(dir);
  const doomed = backups.slice(0, Math.max(0, backups.length - keep));
  const staleTemps = readdirSync(dir).filter((name) => TEMP_NAME.test(name) && now - statSync(join(dir, name)).mtimeMs > STALE_TEMP_MS);
  for (const name of [...doomed, ...staleTemps]) rmSync(join(dir, name), { force: true });
  return [...doomed, ...staleTemps];
}
