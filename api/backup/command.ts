import { dirname, join } from "node:path";
import { Type as t } from "@sinclair/typebox";
import { ConfigError, envVar, loadConfig } from "../../common/config.ts";
import { redactUrl } from "../../common/redact.ts";
import type { CommandIo } from "../report/command.ts";
import { commandDatabaseUrl } from "../report/database-url.ts";
import { EXIT_USAGE, parseOptions, UsageError } from "../report/usage-error.ts";
import { backupDatabase, type BackupResult } from "./backup.ts";
import { backupPostgres } from "./postgres-backup.ts";
import { pruneBackups } from "./retention.ts";

/**
 * How many backups are kept when neither --keep nor BACKUP_KEEP says: a week
 * at the timer's four a day (systemd/tap-trading-backup.timer).
 *
 * ```ts
 * pruneBackups("/data/backups", { keep: DEFAULT_KEEP, now: Date.now() });
 * ```
 */
export const DEFAULT_KEEP = 28;

/**
 * What `api backup` reads from the environment: the API's DB_PATH (and
 * DATABASE_URL, read apart: it is never echoed), and where the backups go and
 * how many stay (flags win over these).
 *
 * ```ts
 * const { dbPath, backupDir, backupKeep } = loadConfig(backupVars, { DB_PATH: "/data/bets.db", BACKUP_KEEP: "28" });
 * ```
 */
export const backupVars = {
  dbPath: envVar({ name: "DB_PATH", schema: t.String({ minLength: 1 }), fallback: "data/bets.db" }),
  /** Empty: `backups/` beside the database. */
  backupDir: envVar({ name: "BACKUP_DIR", schema: t.String(), fallback: "" }),
  backupKeep: envVar({ name: "BACKUP_KEEP", schema: t.Integer({ minimum: 1, maximum: 100_000 }), fallback: DEFAULT_KEEP }),
};

/**
 * The usage `api backup` prints with a bad command line, or `--help`.
 *
 * ```ts
 * io.stderr(`api backup: ${error.message}\n${BACKUP_USAGE}`);
 * ```
 */
export const BACKUP_USAGE =
  "usage: api backup [--db PATH] [--dir DIR] [--keep N]\n" +
  `  defaults: DATABASE_URL (PostgreSQL, with pg_dump) else DB_PATH, BACKUP_DIR (else backups/ beside DB_PATH), BACKUP_KEEP (else ${DEFAULT_KEEP})\n`;

const EXIT_CONFIG = 78;
const EXIT_FAILED = 1;

/** A whole number of at least 1 from a flag. */
function keepOf(text: string): number {
  const keep = Number(text);
  if (!/^\d+$/.test(text) || keep < 1 || !Number.isSafeInteger(keep)) throw new UsageError(`--keep: expected a whole number of at least 1, got ${JSON.stringify(text)}`);
  return keep;
}

/**
 * `api backup [--db PATH] [--dir DIR] [--keep N]`: one online backup of the
 * database, then the oldest beyond the newest N are deleted. SQLite (`--db`
 * or DB_PATH): `backupDatabase`, a checked copy. PostgreSQL (DATABASE_URL set
 * and no `--db`): `backupPostgres`, a checked `pg_dump`. Prints one JSON line
 * (the journal's format) saying what it did. Returns the exit status (a
 * promise of it on PostgreSQL): 0 done, 1 failed (nothing pruned then;
 * pg_dump missing too), 2 bad command line, 78 bad setting.
 *
 * ```ts
 * const status = await runBackupCommand(["--dir", "/data/backups", "--keep", "28"], io);
 * ```
 */
export function runBackupCommand(argv: readonly string[], io: CommandIo): number | Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout(BACKUP_USAGE);
    return 0;
  }
  let dbPath: string;
  let databaseUrl: string | undefined;
  let dir: string;
  let keep: number;
  try {
    const { values } = parseOptions(argv, { db: { type: "string" }, dir: { type: "string" }, keep: { type: "string" } });
    const config = loadConfig(backupVars, io.env);
    for (const option of ["db", "dir"] as const) if (values[option]?.trim() === "") throw new UsageError(`--${option}: expected a path`);
    dbPath = values.db ?? config.dbPath;
    // --db names a SQLite file even where the API runs on PostgreSQL.
    databaseUrl = values.db === undefined ? commandDatabaseUrl(io.env) : undefined;
    dir = values.dir ?? (config.backupDir.trim() || join(dirname(dbPath), "backups"));
    keep = values.keep === undefined ? config.backupKeep : keepOf(values.keep);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`api backup: ${error.message}\n${BACKUP_USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      io.stderr(`${JSON.stringify({ level: "fatal", component: "backup", msg: `bad configuration: ${error.message}`, variable: error.variable, value: error.value ?? null })}\n`);
      return EXIT_CONFIG;
    }
    throw error;
  }
  const line = (level: string, msg: string, fields: Record<string, unknown>) =>
    `${JSON.stringify({ level, time: new Date(io.now()).toISOString(), component: "backup", msg, ...fields })}\n`;
  const finish = (db: string, done: BackupResult) => {
    const pruned = pruneBackups(dir, { keep, now: io.now() });
    io.stdout(line("info", "backup written and checked", { db, path: done.path, bytes: done.bytes, ms: done.ms, integrity: "ok", keep, pruned }));
    return 0;
  };
  const fail = (db: string, error: unknown) => {
    io.stderr(line("error", "backup failed", { db, dir, error: (error as Error).message }));
    return EXIT_FAILED;
  };
  if (databaseUrl !== undefined) {
    // backupPostgres's errors never hold the password; the URL is logged without its user info.
    const db = redactUrl(databaseUrl);
    return backupPostgres({ url: databaseUrl, dir, env: io.env, now: io.now })
      .then((done) => finish(db, done))
      .catch((error: unknown) => fail(db, error));
  }
  try {
    return finish(dbPath, backupDatabase({ dbPath, dir, now: io.now }));
  } catch (error) {
    return fail(dbPath, error);
  }
}
