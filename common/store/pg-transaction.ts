import type postgres from "postgres";


/** A connection held for one transaction: every query on it runs inside that transaction, in order. */
export type PgTx<Types extends Record<string, unknown> = { bigint: number }> = postgres.ReservedSql<Types>;

/**
 * Runs `fn` between BEGIN and COMMIT on a connection reserved for it first,
 * and ROLLBACK when `fn` or the COMMIT throws.
 *
 * Why not `sql.begin`: in postgres.js 3.4.9 a BEGIN sent through `sql.begin`
 * can reach the server without its connection being reserved (when BEGIN fills
 * the connection's pipeline), and the connection is left in the pool's busy
 * queue while BEGIN is in flight, so a plain query may be pipelined behind it
 * and run inside someone else's transaction (porsager/postgres #823, #1189,
 * #1218, open). `sql.reserve()` takes only an idle connection, or waits for
 * one, and the pool never hands a reserved connection to anyone else.
 *
 * A connection whose ROLLBACK fails is not handed back: its session state is
 * unknown (the pool has already dropped it when the socket closed).
 *
 * ```ts
 * const moved = await inTransaction(sql, async (tx) => {
 *   await tx`UPDATE players SET balance_cents = balance_cents - 100 WHERE id = ${from}`;
 *   return (await tx`UPDATE players SET balance_cents = balance_cents + 100 WHERE id = ${to}`).count;
 * });
 * ```
 */
export async function inTransaction<T, Types extends Record<string, unknown>>(sql: postgres.Sql<Types>, fn: (tx: PgTx<Types>) => Promise<T>): Promise<T> {
  const tx = await sql.reserve();
  let result: T;
  try {
    await tx`BEGIN`;
    result = await fn(tx);
    await tx`COMMIT`;
  } catch (error) {
    try {
      await tx`ROLLBACK`;
    } catch {
      throw error;
    }
    tx.release();
    throw error;
  }
  tx.release();
  return result;
}

let savepoints = 0;

/**
 * Runs `fn` inside a savepoint of the transaction `tx`: released when `fn`
 * returns, rolled back to (the transaction goes on) when it throws.
 *
 * ```ts
 * await inTransaction(sql, (tx) => inSavepoint(tx, (sp) => sp`INSERT INTO audit VALUES (${line})`).catch(() => undefined));
 * ```
 */
export async function inSavepoint<T, Types extends Record<string, unknown>>(tx: PgTx<Types>, fn: (sp: PgTx<Types>) => Promise<T>): Promise<T> {
  const name = tx(`sp_${++savepoints}`);
  await tx`SAVEPOINT ${name}`;
  try {
    const result = await fn(tx);
    await tx`RELEASE SAVEPOINT ${name}`;
    return result;
  } catch (error) {
    await tx`ROLLBACK TO SAVEPOINT ${name}`;
    throw error;
  }
}
