/**
 * Transactions on a busy postgres.js pool (common/store/pg-transaction.ts):
 * every transaction gets a connection of its own, and no plain query ever
 * runs inside one. postgres.js's own `sql.begin` fails this workload (the
 * race of porsager/postgres #823: a BEGIN that fills a connection's pipeline,
 * plain queries pipelined behind a BEGIN in flight).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import { inSavepoint, inTransaction } from "../common/store/pg-transaction.ts";
import { createTempDatabase, postgresMissing, type TempDatabase } from "./support/postgres.ts";

// These tests use a real PostgreSQL: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const missing = await postgresMissing();
if (missing && !process.env.CI) console.warn(`test/pg-transaction.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

describe.skipIf(!run)("transactions on a busy pool", () => {
  let database: TempDatabase;

  beforeAll(async () => {
    if (missing) throw new Error(`CI must have PostgreSQL: ${missing}`);
    database = await createTempDatabase("tap_txn");
  });

  afterAll(async () => {
    await database?.drop();
  });

  test("with every connection busy and a pipeline of two, each transaction runs alone on its connection and plain queries never join one", async () => {
    // Three connections, at most two queries in flight on each: BEGIN often lands at the pipeline's end.
    // max_pipeline is an option of postgres.js 3.4 that its types do not list.
    const sql = postgres(database.url, { max: 3, max_pipeline: 2, prepare: true, onnotice: () => {} } as postgres.Options<{}>);
    const failures: string[] = [];
    try {
      for (let round = 0; round < 12; round++) {
        const busy = Array.from({ length: 3 }, () => sql`SELECT pg_sleep(0.05)`);
        // Each statement takes a transaction id: a plain query that shares one has run inside someone's transaction.
        const plain = Array.from({ length: 6 }, () => sql<{ xid: string }[]>`SELECT pg_current_xact_id()::text AS xid`.then(([row]) => row?.xid));
        const transactions = Array.from({ length: 5 }, (_, i) =>
          inTransaction(sql, async (tx) => {
            const [first] = await tx<{ xid: string }[]>`SELECT pg_current_xact_id()::text AS xid`;
            const inner = await inSavepoint(tx, async (sp) => (await sp<{ xid: string }[]>`SELECT pg_current_xact_id()::text AS xid`)[0]?.xid);
            const [last] = await tx<{ xid: string; n: number }[]>`SELECT pg_current_xact_id()::text AS xid, ${i}::int AS n`;
            if (first?.xid !== inner || inner !== last?.xid || last?.n !== i) failures.push(`round ${round}: transaction ${i} was split across transactions`);
            return first?.xid;
          }),
        );
        const outcomes = await Promise.allSettled([...busy, ...plain, ...transactions]);
        for (const outcome of outcomes) if (outcome.status === "rejected") failures.push(`round ${round}: ${(outcome.reason as Error).message}`);
        const xids = outcomes.slice(busy.length).flatMap((outcome) => (outcome.status === "fulfilled" && typeof outcome.value === "string" ? [outcome.value] : []));
        if (new Set(xids).size !== xids.length) failures.push(`round ${round}: two statements shared a transaction (${xids.join(", ")})`);
      }
      // Nothing was left open on the server: every connection is back, idle, outside any transaction.
      const stuck = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`;
      expect(stuck[0]?.n).toBe(0);
    } finally {
      await sql.end({ timeout: 1 });
    }
    expect(failures).toEqual([]);
  });

  test("a throw rolls the transaction back and hands the connection back; a savepoint's throw undoes only the savepoint", async () => {
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      await sql`CREATE TABLE IF NOT EXISTS notes (line text)`;
      await expect(
        inTransaction(sql, async (tx) => {
          await tx`INSERT INTO notes VALUES ('rolled back')`;
          throw new Error("on purpose");
        }),
      ).rejects.toThrow("on purpose");
      const kept = await inTransaction(sql, async (tx) => {
        await tx`INSERT INTO notes VALUES ('kept')`;
        await inSavepoint(tx, async (sp) => {
          await sp`INSERT INTO notes VALUES ('undone')`;
          throw new Error("savepoint on purpose");
        }).catch(() => undefined);
        return "committed";
      });
      expect(kept).toBe("committed");
      // One connection in the pool: had either transaction kept it, this would wait forever.
      expect((await sql<{ line: string }[]>`SELECT line FROM notes ORDER BY line`).map((row) => row.line)).toEqual(["kept"]);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
  test("a COMMIT sent with the last statements commits them, and a statement failing before it rolls everything back and is reported", async () => {
    const sql = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      await sql`CREATE TABLE IF NOT EXISTS pipelined (line text PRIMARY KEY)`;
      const written = await inTransaction(sql, async (tx, control) => {
        const first = tx`INSERT INTO pipelined VALUES ('one')`.execute();
        const second = tx`INSERT INTO pipelined VALUES ('two')`.execute();
        await Promise.all([first, second, control.commit()]);
        return "both";
      });
      expect(written).toBe("both");
      // The second row breaks the primary key: the first is rolled back with it, and the COMMIT sent behind them says so.
      const failed = inTransaction(sql, async (tx, control) => {
        const fresh = tx`INSERT INTO pipelined VALUES ('three')`.execute();
        const duplicate = tx`INSERT INTO pipelined VALUES ('one')`.execute();
        const committed = control.commit();
        const outcomes = await Promise.allSettled([fresh, duplicate, committed]);
        expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "rejected"]);
        expect(String((outcomes[2] as PromiseRejectedResult).reason)).toContain("rolled back");
        throw (outcomes[1] as PromiseRejectedResult).reason;
      });
      await expect(failed).rejects.toThrow("duplicate key");
      // One connection in the pool: had the transaction kept it, this would wait forever.
      expect((await sql<{ line: string }[]>`SELECT line FROM pipelined ORDER BY line`).map((row) => row.line)).toEqual(["one", "two"]);
      const stuck = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`;
      expect(stuck[0]?.n).toBe(0);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
