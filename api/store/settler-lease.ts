import type { PgSql } from "../../common/store/postgres.ts";

/**
 * Thrown inside a settlement transaction by a node that does not hold the
 * settler lease at the epoch it believes: the transaction rolls back and
 * writes nothing (not the tick, not a bet, not a credit).
 *
 * ```ts
 * try { await store.settlement.settle(decisions, now, judged); }
 * catch (error) { if (error instanceof LeaseLostError) log.warn({ epoch: error.epoch }, "no longer the settler"); }
 * ```
 */
export class LeaseLostError extends Error {
  constructor(
    readonly holder: string,
    readonly epoch: number | undefined,
  ) {
    super(epoch === undefined ? `${holder} does not hold the settler lease` : `${holder} lost the settler lease of epoch ${epoch}`);
    this.name = "LeaseLostError";
  }
}

/**
 * How a node contends for the settler lease: its name (unique per node, shown
 * as `holder`), how long a lease lasts without renewal (default 3 s) and how
 * often `start` renews or tries (default 1 s).
 *
 * ```ts
 * const options: SettlerLeaseOptions = { holder: `api-${hostname()}-${process.pid}`, leaseMs: 3000, renewEveryMs: 1000 };
 * ```
 */
export interface SettlerLeaseOptions {
  holder: string;
  leaseMs?: number;
  renewEveryMs?: number;
  /** Told when this node gains (an epoch) or loses (undefined) the lease. */
  onChange?: (epoch: number | undefined) => void;
  /** Told when a renewal or an attempt fails (the database unreachable): the lease counts as lost. */
  onError?: (error: unknown) => void;
}

/**
 * One settler at a time across api nodes: a lease row (`settler_lease`, one
 * row) with an epoch. `acquire` takes the lease when it is free or expired
 * (by the database's clock), bumping the epoch, or renews it when this node
 * already holds it; `renew` extends it only at the epoch held; `release`
 * frees it. `fence(tx)` is the check every settlement transaction runs first
 * (`createPostgresStore`'s `fenceSettlement`): the row must still name this
 * node at its epoch and not be expired, read `FOR SHARE`, so a standby's
 * takeover waits for that transaction to end and an ex-holder's transaction
 * throws `LeaseLostError` and writes nothing. `start` renews (or tries to
 * take) the lease every `renewEveryMs`; a standby takes over within
 * `leaseMs + renewEveryMs` of the holder's last renewal.
 *
 * ```ts
 * const lease = createSettlerLease(sql, { holder: "api-1", onChange: (epoch) => log.info({ epoch }, "settler lease") });
 * lease.start();
 * const store = createPostgresStore(sql, { secret, fenceSettlement: (tx) => lease.fence(tx) });
 * if (lease.epoch() !== undefined) await store.settlement.settle(decisions, Date.now(), judged);
 * ```
 */
export function createSettlerLease(sql: PgSql, { holder, leaseMs = 3000, renewEveryMs = 1000, onChange, onError }: SettlerLeaseOptions) {
  if (!(leaseMs > renewEveryMs && renewEveryMs > 0)) throw new RangeError(`the lease (${leaseMs} ms) must outlast its renewal period (${renewEveryMs} ms)`);
  let held: number | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<unknown> = Promise.resolve();

  const set = (epoch: number | undefined) => {
    if (epoch === held) return;
    held = epoch;
    onChange?.(epoch);
  };

  /** Takes the lease if free or expired (a new epoch), or renews this node's; the epoch held, or undefined. */
  const acquire = async (): Promise<number | undefined> => {
    const [row] = await sql<{ epoch: number }[]>`
      UPDATE settler_lease
      SET epoch = CASE WHEN holder = ${holder} AND expires_at > clock_timestamp() THEN epoch ELSE epoch + 1 END,
          holder = ${holder},
          expires_at = clock_timestamp() + ${leaseMs}::int * interval '1 millisecond'
      WHERE id = 1 AND (holder IS NULL OR holder = ${holder} OR expires_at <= clock_timestamp())
      RETURNING epoch`;
    set(row?.epoch);
    return row?.epoch;
  };

  /** Extends the lease at the epoch held; false (and the lease counts as lost) when another node took it since. */
  const renew = async (): Promise<boolean> => {
    if (held === undefined) return false;
    const [row] = await sql<{ epoch: number }[]>`
      UPDATE settler_lease SET expires_at = clock_timestamp() + ${leaseMs}::int * interval '1 millisecond'
      WHERE id = 1 AND holder = ${holder} AND epoch = ${held}
      RETURNING epoch`;
    set(row?.epoch);
    return row !== undefined;
  };

  /** Frees the lease (a standby may take it at once); nothing when this node does not hold it. */
  const release = async (): Promise<void> => {
    const epoch = held;
    set(undefined);
    if (epoch === undefined) return;
    await sql`UPDATE settler_lease SET holder = NULL, expires_at = '-infinity' WHERE id = 1 AND holder = ${holder} AND epoch = ${epoch}`;
  };

  /** One round: renew when holding, else try to take; a database error counts as not holding. */
  const round = async (): Promise<void> => {
    try {
      if (held === undefined || !(await renew())) await acquire();
    } catch (error) {
      set(undefined);
      onError?.(error);
    }
  };

  return {
    acquire,
    renew,
    release,
    round,
    /** The epoch this node believes it holds, or undefined. */
    epoch: (): number | undefined => held,
    /**
     * Inside a settlement transaction: passes only while this node holds the
     * lease at its epoch, unexpired; holds the row `FOR SHARE` until the
     * transaction ends.
     */
    async fence(tx: PgSql): Promise<void> {
      const epoch = held;
      if (epoch === undefined) throw new LeaseLostError(holder, undefined);
      const [row] = await tx`
        SELECT 1 FROM settler_lease WHERE id = 1 AND holder = ${holder} AND epoch = ${epoch} AND expires_at > clock_timestamp() FOR SHARE`;
      if (!row) throw new LeaseLostError(holder, epoch);
    },
    /** Renews or tries every `renewEveryMs`, one round at a time. */
    start(): void {
      if (timer) return;
      running = running.then(round);
      timer = setInterval(() => {
        running = running.then(round);
      }, renewEveryMs);
    },
    /** Stops the rounds; the lease is kept until it expires unless `release` is called. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

/**
 * A node's settler lease: `createSettlerLease`'s result.
 *
 * ```ts
 * const lease: SettlerLease = createSettlerLease(sql, { holder: "api-1" });
 * ```
 */
export type SettlerLease = ReturnType<typeof createSettlerLease>;
