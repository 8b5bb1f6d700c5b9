import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { type Migration, migrations as allMigrations } from "./migrations.ts";

/**
 * How `openStore` opens a database: its lock wait (`DEFAULT_BUSY_TIMEOUT_MS`
 * unless set) and the migrations to apply (all of them unless set).
 *
 * ```ts
 * const db = openStore(":memory:", { busyTimeoutMs: 1000, migrations: migrations.slice(0, 2), sync: "full" });
 * ```
 */
export interface StoreOptions {
  /** How long a writer waits for a lock held by another connection, ms. */
  busyTimeoutMs?: number;
  /**
   * `normal` (the default here): a commit survives the process crashing, but an OS crash or power loss can drop the
   * last commits. `full`: every commit is fsynced before it returns, so a bet answered 202 survives those too.
   */
  sync?: DbSync;
  migrations?: readonly Migration[];
}

/**
 * How hard a commit is pushed to disk: SQLite's `synchronous` setting in WAL mode (see `StoreOptions.sync`).
 *
 * ```ts
 * const sync: DbSync = "full";
 * ```
 */
export type DbSync = "normal" | "full";

/** A writer waits this long for another connection's lock (say, a checkpoint) before SQLITE_BUSY. */
const DEFAULT_BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating when missing) the SQLite database at `path` in WAL mode and
 * brings its schema up to date. `:memory:` works for unit tests.
 *
 * ```ts
 * const db = openStore("/data/bets.db");
 * ```
 */
export function openStore(path: string, { busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS, migrations = allMigrations, sync = "normal" }: StoreOptions = {}): Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  db.exec(`PRAGMA busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  db.exec("PRAGMA journal_mode = WAL");
  // NORMAL is durable in WAL mode against a process crash; only an OS crash can lose the last commits. FULL fsyncs
  // the WAL at every commit (one group commit of bets is one transaction, so one fsync per batch).
  db.exec(`PRAGMA synchronous = ${sync === "full" ? "FULL" : "NORMAL"}`);
  db.exec("PRAGMA foreign_keys = ON");
  migrate(db, migrations);
  return db;
}

/**
 * Applies the migrations newer than the database's `user_version`, each in its own transaction.
 * One that rebuilds a table runs with foreign keys off (SQLite's documented way to
 * rebuild a parent table) and must leave no dangling reference, or it is rolled back.
 * Returns how many it applied.
 */
function migrate(db: Database, migrations: readonly Migration[]): number {
  const current = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
  let applied = 0;
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (migration.version <= current) continue;
    // The pragma is a no-op inside a transaction, so it is set around it.
    if (migration.rebuildsTables) db.exec("PRAGMA foreign_keys = OFF");
    try {
      db.transaction(() => {
        db.exec(migration.sql);
        if (migration.rebuildsTables) {
          const dangling = db.query("PRAGMA foreign_key_check").all();
          if (dangling.length > 0) throw new Error(`migration ${migration.version} (${migration.name}) leaves ${dangling.length} dangling foreign keys`);
        }
        db.exec(`PRAGMA user_version = ${migration.version}`);
      })();
    } finally {
      if (migration.rebuildsTables) db.exec("PRAGMA foreign_keys = ON");
    }
    applied++;
  }
  return applied;
}
