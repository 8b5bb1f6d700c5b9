import { Database } from "bun:sqlite";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { backupName } from "./retention.ts";

/**
 * A backup that was written and checked.
 *
 * ```ts
 * const done: BackupResult = { path: "/data/backups/bets-2026-12-02T060000.123Z.db", bytes: 4_202_496, ms: 181 };
 * ```
 */
export interface BackupResult {
  path: string;
  bytes: number;
  /** How long the copy and its check took. */
  ms: number;
}

/**
 * What `backupDatabase` copies, where to, and its clock (names the file).
 *
 * ```ts
 * const options: BackupOptions = { dbPath: "/data/bets.db", dir: "/data/backups", now: Date.now };
 * ```
 */
export interface BackupOptions {
  dbPath: string;
  dir: string;
  now?: () => number;
  /** How long to wait for a lock another connection holds (say, a checkpoint), ms. */
  busyTimeoutMs?: number;
}

/**
 * Flushes a file (or a folder's entries) to disk: a backup is durable, and
 * renamed into view only once it is.
 *
 * ```ts
 * fsyncPath(temporary); renameSync(temporary, final); fsyncPath(dirname(final));
 * ```
 */
export function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The result of `PRAGMA integrity_check` on a file: `["ok"]` when sound.
 *
 * ```ts
 * integrityCheck("/data/backups/bets-2026-12-02T060000.123Z.db"); // ["ok"]
 * ```
 */
export function integrityCheck(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.query("PRAGMA integrity_check").all() as { integrity_check: string }[]).map((row) => row.integrity_check);
  } finally {
    db.close();
  }
}

/**
 * An online backup of the live database: `VACUUM INTO` from a read-only
 * connection copies one consistent snapshot (a read transaction: the API
 * writes on, and is never blocked) into a temp file in `dir`, which is
 * fsynced, checked with `PRAGMA integrity_check`, then renamed to its
 * timestamped name and the folder fsynced. A copy of the file itself would
 * miss what is still in the -wal, or tear mid-checkpoint. Throws (and leaves
 * no file) when the copy fails or its check does.
 *
 * ```ts
 * const { path } = backupDatabase({ dbPath: "/data/bets.db", dir: "/data/backups" });
 * ```
 */
export function backupDatabase({ dbPath, dir, now = Date.now, busyTimeoutMs = 5000 }: BackupOptions): BackupResult {
  // A read-only connection never creates the database: a wrong path is an error, not an empty backup.
  if (!existsSync(dbPath)) throw new Error(`no database at ${dbPath}`);
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const started = performance.now();
  const name = backupName(now());
  const final = join(dir, name);
  const temp = join(dir, `.${name}.${process.pid}.tmp`);
  try {
    const source = new Database(dbPath, { readonly: true });
    try {
      source.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
      source.query("VACUUM INTO ?1").run(temp);
    } finally {
      source.close();
    }
    fsyncPath(temp);
    const problems = integrityCheck(temp);
    if (problems.length !== 1 || problems[0] !== "ok") throw new Error(`integrity_check of the backup failed: ${problems.slice(0, 5).join("; ")}`);
    renameSync(temp, final);
    fsyncPath(dir);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return { path: final, bytes: statSync(final).size, ms: Math.round(performance.now() - started) };
}
