import type { PgSql } from "../../common/store/postgres.ts";
import { inTransaction } from "../../common/store/pg-transaction.ts";
import { openBetOf } from "../settlement/settle-store.ts";
import type { OpenBet } from "../settlement/settlement-book.ts";

/**
 * What one read of new bets found: the open bets stored since the last read,
 * in the order they were numbered, and the database's clock once no batch was
 * in flight (`at`, ms).
 *
 * ```ts
 * const { bets, at } = await reader.read();
 * ```
 */
export interface NewBets {
  bets: OpenBet[];
  at: number;
}

/**
 * Reads the bets every node stores, for the one settler: each open bet once,
 * in `seq` order (migration 3).
 *
 * Why nothing is missed: each placing batch holds a row of `exposure_house`
 * (a part of the house's reservation) FOR UPDATE from before it numbers its
 * bets until it commits (api/store/pg-exposure.ts). A read first takes every
 * part FOR SHARE, so it waits for the batches in flight and no batch numbers
 * bets meanwhile; every number
 * handed out so far is then committed or rolled back, and any bet stored later
 * gets a higher number. `at` is the clock read under that lock: a batch that
 * commits after this read read its clock later, and refused every order whose
 * window starts within `lockMs / 2` of it. So once a read's `at` is at least
 * `ts − lockMs / 2`, every bet of a window starting by `ts` has been read.
 *
 * ```ts
 * const reader = createNewBetReader(sql);
 * const { bets, at } = await reader.read(); // the first read: every open bet
 * ```
 */
export function createNewBetReader(sql: PgSql) {
  let lastSeq = 0;
  return {
    async read(): Promise<NewBets> {
      return await inTransaction(sql, async (tx) => {
        await tx`SELECT 1 FROM exposure_house ORDER BY id FOR SHARE`;
        const [clock] = await tx<{ now_ms: number }[]>`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms`;
        const rows = await tx<{ seq: number; id: string; player_id: string; t_start: number; t_end: number; price_low_cents: number; price_high_cents: number; stake_cents: number; multiplier_centi: number }[]>`
          SELECT seq, id, player_id, t_start, t_end, price_low_cents, price_high_cents, stake_cents, multiplier_centi
          FROM bets WHERE status = 'open' AND seq > ${lastSeq} ORDER BY seq`;
        if (rows.length > 0) lastSeq = rows.at(-1)!.seq;
        return { bets: rows.map(openBetOf), at: clock!.now_ms };
      });
    },
  };
}

/**
 * The reader of new bets (see `createNewBetReader`).
 *
 * ```ts
 * const reader: NewBetReader = createNewBetReader(sql);
 * ```
 */
export type NewBetReader = ReturnType<typeof createNewBetReader>;
