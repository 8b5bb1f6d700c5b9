import postgres from "postgres";
import { type PgMigration, pgMigrations } from "./pg-migrations.ts";
import { inTransaction } from "./pg-transaction.ts";

/**
 * A pool of connections to PostgreSQL (postgres.js, see docs/postgres.md for
 * why this client): tagged-template queries, transactions through `inTransaction`
 * (common/store/pg-transaction.ts, never `sql.begin`), `end()`.
 *
 * ```ts
 * const sql: PgSql = await openPostgresStore("postgres://tap@db.internal/tap");
 * const [player] = await sql`SELECT balance_cents FROM players WHERE id = ${id}`;
 * ```
 */
export type PgSql = postgres.Sql<{ bigint: number }>;

/**
 * How `openPostgresStore` connects: the pool size (default 10), the
 * application name shown in `pg_stat_activity`, and the migrations to apply
 * (all of them unless set).
 *
 * ```ts
 * const sql = await openPostgresStore(url, { max: 4, applicationName: "tap-api", migrations: pgMigrations.slice(0, 1) });
 * ```
 */
export interface PgStoreOptions {
  max?: number;
  applicationName?: string;
  migrations?: readonly PgMigration[];
}

/**
 * The PostgreSQL URL in `DATABASE_URL`, or undefined when unset or empty (the
 * store is then SQLite at `DB_PATH`). Anything else than a `postgres://` or
 * `postgresql://` URL throws, naming the variable.
 *
 * ```ts
 * databaseUrlOf({ DATABASE_URL: "postgres://tap@127.0.0.1/tap" }); // "postgres://tap@127.0.0.1/tap"
 * databaseUrlOf({}); // undefined
 * ```
 */
export function databaseUrlOf(env: Record<string, string | undefined>): string | undefined {
  const raw = env.DATABASE_URL?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RangeError("DATABASE_URL is not a URL (expected postgres://user@host:5432/database)");
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new RangeError(`DATABASE_URL must start with postgres:// or postgresql://, not ${url.protocol}//`);
  }
  return raw;
}

/**
 * int8 (BIGINT: cents, ms, counts) as a JavaScript number, refused when it
 * would lose precision: the type every connection of ours reads BIGINT with.
 *
 * ```ts
 * const sql = postgres(url, { types: { bigint: int8AsNumber } });
 * ```
 */
export const int8AsNumber = {
  to: 20,
  from: [20],
  serialize: (value: number) => String(value),
  parse: (text: string) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value)) throw new RangeError(`BIGINT ${text} is beyond a safe JavaScript integer`);
    return value;
  },
};

/**
 * Connects a pool to `url` and brings the schema up to date (`migratePostgres`).
 * Every connection runs with `synchronous_commit = on`, whatever the server's
 * default: a COMMIT returns only once its WAL is on disk, so a 202 after it
 * survives a crash of the database host.
 *
 * ```ts
 * const sql = await openPostgresStore(process.env.DATABASE_URL!, { applicationName: "tap-api" });
 * ```
 */
export async function openPostgresStore(url: string, { max = 10, applicationName = "tap", migrations = pgMigrations }: PgStoreOptions = {}): Promise<PgSql> {
  const sql = postgres(url, {
    max,
    prepare: true,
    onnotice: () => {},
    types: { bigint: int8AsNumber },
    connection: { application_name: applicationName, synchronous_commit: "on" },
  }) as unknown as PgSql;
  try {
    await migratePostgres(sql, migrations);
  } catch (error) {
    await sql.end({ timeout: 5 });
    throw error;
  }
  return sql;
}

/**
 * Applies the migrations newer than the highest version in `schema_version`,
 * all in one transaction, and returns how many it applied. A transaction-scoped
 * advisory lock serialises nodes that start together: the second waits, then
 * finds the work done.
 *
 * ```ts
 * const applied = await migratePostgres(sql); // 0 when the schema is current
 * ```
 */
export async function migratePostgres(sql: PgSql, migrations: readonly PgMigration[] = pgMigrations): Promise<number> {
  const ordered = [...migrations].sort((a, b) => a.version - b.version);
  const versions = new Set(ordered.map((migration) => migration.version));
  if (versions.size !== ordered.length) throw new RangeError("two PostgreSQL migrations share a version");
  return await inTransaction(sql, async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext('tap-trading schema migrations'))`;
    await tx`CREATE TABLE IF NOT EXISTS schema_version (
      version    INTEGER     PRIMARY KEY,
      name       TEXT        NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`;
    const [{ current }] = await tx<[{ current: number }]>`SELECT coalesce(max(version), 0)::int AS current FROM schema_version`;
    let applied = 0;
    for (const migration of ordered) {
      if (migration.version <= current) continue;
      // No parameters: the simple protocol, so one migration may hold many statements.
      await tx.unsafe(migration.sql);
      await tx`INSERT INTO schema_version (version, name) VALUES (${migration.version}, ${migration.name})`;
      applied++;
    }
    return applied;
  });
}
