/**
 * PostgreSQL for tests and benches: whether a server answers on 127.0.0.1:5432,
 * a database of our own per run (created and dropped, never touching others),
 * and the two candidate clients behind one small interface so a workload runs
 * unchanged on each.
 */
import { SQL } from "bun";
import postgres from "postgres";
import { inSavepoint, inTransaction } from "../../common/store/pg-transaction.ts";

/** The maintenance database a run creates its own databases from (trust auth, user postgres). */
export const ADMIN_URL = process.env.PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** What `make test` prints when PostgreSQL is missing (scripts/setup.sh installs it as root). */
export const INSTALL_HINT = "apt-get install -y postgresql (then: service postgresql start, or pg_ctlcluster 15 main start)";

/** Why PostgreSQL cannot be used here, or undefined when a server answers at ADMIN_URL. */
export async function postgresMissing(): Promise<string | undefined> {
  const sql = postgres(ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return undefined;
  } catch (error) {
    return `no PostgreSQL answers at ${ADMIN_URL} (${(error as Error).message}); ${INSTALL_HINT}`;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** A database of this run's own: its URL, and `drop()` to remove it (idempotent). */
export interface TempDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * Creates `<prefix>_<random>` on the server at ADMIN_URL. Only names this
 * function made are ever dropped.
 */
export async function createTempDatabase(prefix: string): Promise<TempDatabase> {
  if (!/^[a-z_]+$/.test(prefix)) throw new RangeError(`database prefix ${prefix} must be lowercase letters and _`);
  const name = `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end({ timeout: 1 });
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      const again = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
      try {
        await again.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await again.end({ timeout: 1 });
      }
    },
  };
}

/** A row as both clients return it: column name → value. */
export type Row = Record<string, unknown>;

/** Runs one parameterised statement, as a server-side prepared statement. */
export interface Queryable {
  query(text: string, params?: readonly unknown[]): Promise<Row[]>;
}

/** One client with a pool: statements, transactions (with savepoints) and close. */
export interface PgDriver extends Queryable {
  readonly name: string;
  transaction<T>(fn: (tx: Queryable & { savepoint<U>(fn: (sp: Queryable) => Promise<U>): Promise<U> }) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The clients compared, by name. */
export const DRIVER_NAMES = ["bun-sql", "postgres.js"] as const;
/** One of DRIVER_NAMES. */
export type DriverName = (typeof DRIVER_NAMES)[number];

/** A pool of at most `max` connections to `url` with the named client, prepared statements on. */
export function openDriver(name: DriverName, url: string, max: number): PgDriver {
  switch (name) {
    case "bun-sql":
      return openBunSql(url, max);
    case "postgres.js":
      return openPostgresJs(url, max);
    default:
      throw new RangeError(`unknown PostgreSQL client ${name satisfies never}`);
  }
}

function openBunSql(url: string, max: number): PgDriver {
  const sql = new SQL({ url, max, prepare: true });
  const wrap = (client: SQL): Queryable => ({
    query: async (text, params = []) => [...(await client.unsafe(text, [...params]))] as Row[],
  });
  return {
    name: "bun-sql",
    ...wrap(sql),
    transaction: (fn) =>
      sql.begin((tx) => fn({ ...wrap(tx), savepoint: (inner) => tx.savepoint((sp) => inner(wrap(sp))) })) as ReturnType<typeof fn>,
    close: () => sql.close({ timeout: 1 }),
  };
}

function openPostgresJs(url: string, max: number): PgDriver {
  const sql = postgres(url, { max, prepare: true, onnotice: () => {} });
  type Client = Pick<postgres.Sql, "unsafe">;
  const wrap = (client: Client): Queryable => ({
    query: async (text, params = []) => [...(await client.unsafe(text, [...params] as postgres.ParameterOrJSON<never>[], { prepare: true }))] as Row[],
  });
  return {
    name: "postgres.js",
    ...wrap(sql),
    // The transactions the store runs (common/store/pg-transaction.ts), not sql.begin: see there why.
    transaction: (fn) => inTransaction(sql, (tx) => fn({ ...wrap(tx), savepoint: (inner) => inSavepoint(tx, (sp) => inner(wrap(sp))) })),
    close: () => sql.end({ timeout: 1 }),
  };
}
