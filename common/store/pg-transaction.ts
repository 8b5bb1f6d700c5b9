import type postgres from "postgres";


/** A connection held for one transaction: every query on it runs inside that transaction, in order. */
export type PgTx<Types extends Record<string, unknown> = { bigint: number }> = postgres.ReservedSql<Types>;

/**
 * What a transaction's body may do besides querying: end the transaction
 * itself, in the same round trip as its last statements.
 *
 * ```ts
 * await inTransaction(sql, async (tx, control) => {
 *   const inserted = tx`INSERT INTO ticks (ts) VALUES (${ts})`.execute();
 *   await Promise.all([inserted, control.commit()]); // one round trip
 * });
 * ```
 */
export interface TxControl {
  /**
   * Sends COMMIT now, pipelined behind the statements already sent (send them
   * with `.execute()` first: an awaited query is only sent a microtask later).
   * Resolves once committed; rejects when the server rolled back instead,
   * i.e. when a statement before it failed.
   */
  commit(): Promise<void>;
}

/**
 * Runs `fn` between BEGIN and COMMIT on a connection reserved for it first,
 * and ROLLBACK when `fn` or the COMMIT throws.
 *
 * BEGIN is sent with `fn`'s first statements, not a round trip before them:
 * on a connection of its own they run after it, in order, and a BEGIN that
 * fails is a broken connection that fails them too. COMMIT is sent once `fn`
 * resolves, unless `fn` sent it itself with `control.commit()` alongside its
 * last statements (one round trip fewer): then a failed statement turns that
 * COMMIT into a rollback, which `commit()` reports as an error.
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
export async function inTransaction<T, Types extends Record<string, unknown>>(sql: postgres.Sql<Types>, fn: (tx: PgTx<Types>, control: TxControl) => Promise<T>): Promise<T> {
  const tx = await sql.reserve();
  let committing: Promise<void> | undefined;
  const commit = () => {
    committing ??= tx`COMMIT`.execute().then((result) => {
      // COMMIT in a transaction a failed statement aborted answers ROLLBACK, not an error.
      if (result.command !== "COMMIT") throw new Error(`the transaction was rolled back (COMMIT answered ${result.command})`);
    });
    return committing;
  };
  let result: T;
  try {
    const begun = tx`BEGIN`.execute();
    begun.catch(() => undefined); // awaited below; fn's own statements fail first when it does
    result = await fn(tx, { commit });
    await begun;
    await commit();
  } catch (error) {
    // Settle a COMMIT already sent before the ROLLBACK (harmless once the transaction is over).
    await committing?.catch(() => undefined);
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

/**
 * Awaits statements pipelined on one connection and returns their results;
 * when any failed, throws the first failure in the order sent: the cause,
 * where those after it only say the transaction was aborted (and may be
 * reported first).
 *
 * ```ts
 * const [updated] = await settledInOrder([tx`UPDATE …`.execute(), tx`INSERT …`.execute(), control.commit()]);
 * ```
 */
export async function settledInOrder<const T extends readonly unknown[]>(sent: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(sent);
  const failed = results.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
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
