import type postgres from "postgres";
import type { PgSql } from "../../common/store/postgres.ts";
import { type BetOrder, potentialPayoutCents } from "../bets/bet-store.ts";
import type { OpenBet } from "../settlement/settlement-book.ts";
import type { PgExposureHook, PlacementGate, PlacementRefusal } from "./postgres-store.ts";

/**
 * The liability caps the database enforces across nodes, in cents: what the
 * house may stand to pay on the open bets of one cell, and on all of them
 * (config's MAX_CELL_LIABILITY and MAX_HOUSE_LIABILITY).
 *
 * ```ts
 * const caps: LiabilityCaps = { maxCellLiabilityCents: 500_000, maxHouseLiabilityCents: 5_000_000, maxOpenBets: 100, lockMs: 2000 };
 * ```
 *
 * With `maxOpenBets`, a player's open bets in the database (`players.open_bets`, kept by triggers, read under the
 * player's lock) bound theirs. With `lockMs`, an order whose window starts
 * within `lockMs / 2` of the database's clock, read once the house row is
 * locked, is refused `cell_locked`: every bet of a window is then committed
 * by its start − `lockMs / 2`, which is what lets the settler read other
 * nodes' bets in time (api/store/pg-open-bets.ts).
 */
export interface LiabilityCaps {
  maxCellLiabilityCents: number;
  maxHouseLiabilityCents: number;
  maxOpenBets?: number;
  lockMs?: number;
}

/**
 * The reserved exposure as the database holds it: the house's potential
 * payout and open bets, and each cell's potential payout (cells at zero
 * included).
 *
 * ```ts
 * const { houseCents, openBets, cells } = await exposure.read();
 * ```
 */
export interface ReservedExposure {
  houseCents: number;
  openBets: number;
  cells: { tStart: number; lowCents: number; cents: number }[];
}

const cellKey = (tStart: number, lowCents: number) => `${tStart}:${lowCents}`;

/**
 * Exposure caps that hold across api nodes: a reservation in PostgreSQL,
 * made in the group commit's own transaction (`createPostgresStore`'s
 * `exposure` option) and released in the settlement's.
 *
 * In `placeBatch`, after the players' locks, `open` takes the batch's cells
 * (`exposure_cells`, one upsert in (t_start, low_cents) order, which locks
 * each row, new or not) and then the house row (`exposure_house`, FOR UPDATE)
 * and reads their totals; each order that has the funds is judged in batch
 * order against those totals (`admit`: `max_cell_liability` first, then
 * `max_house_liability`, the in-memory exposure's order); `commit` adds what
 * was admitted with guarded UPDATEs (`… WHERE total + added <= cap`), which
 * must all update their row or `guard()` raises and the batch rolls back. Another
 * node's batch over the same cell or the house waits on those row locks until
 * this COMMIT, then reads the new totals: the caps cannot be passed together.
 * `release` subtracts settled bets' potential payouts (cells locked in the
 * same order; never below zero, so settlement is never blocked by a counter)
 * and deletes the cells back at zero whose window has started.
 *
 * ```ts
 * const exposure = createPgExposure(sql, { maxCellLiabilityCents: 500_000, maxHouseLiabilityCents: 5_000_000 });
 * const store = createPostgresStore(sql, { secret, exposure });
 * const [outcome] = await store.bets.placeBatch([order]); // { kind: "limit_exceeded", limit: "max_cell_liability" } when full
 * ```
 */
export function createPgExposure(sql: PgSql, caps: LiabilityCaps): PgExposureHook & { read(): Promise<ReservedExposure> } {
  const json = (value: unknown) => sql.json(value as postgres.JSONValue);

  const open = async (tx: PgSql, orders: readonly BetOrder[]): Promise<PlacementGate> => {
    const wanted = new Map<string, { t_start: number; low_cents: number }>();
    for (const order of orders) wanted.set(cellKey(order.tStart, order.lowCents), { t_start: order.tStart, low_cents: order.lowCents });
    const { lockMs, maxOpenBets } = caps;
    const players = [...new Set(orders.map((order) => order.playerId))];
    // Sent together (one round trip; each `execute()`d as it is made, so in this order) and run in this order: the
    // cells, the house, then the clock, read once the house is locked (no batch committing after the settler's next
    // read of new bets decided before it), and the players' open bets (their rows are locked by then).
    const [rows, [house], clock, counts] = await Promise.all([
      tx<{ t_start: number; low_cents: number; potential_payout_cents: number }[]>`
        INSERT INTO exposure_cells (t_start, low_cents)
        SELECT t_start, low_cents FROM jsonb_to_recordset(${json([...wanted.values()])}::jsonb) AS c (t_start bigint, low_cents bigint)
        ORDER BY t_start, low_cents
        ON CONFLICT (t_start, low_cents) DO UPDATE SET potential_payout_cents = exposure_cells.potential_payout_cents
        RETURNING t_start, low_cents, potential_payout_cents`.execute(),
      tx<{ potential_payout_cents: number }[]>`SELECT potential_payout_cents FROM exposure_house WHERE id = 1 FOR UPDATE`.execute(),
      lockMs === undefined ? [] : tx<{ now_ms: number }[]>`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms`.execute(),
      maxOpenBets === undefined
        ? []
        : tx<{ player_id: string; n: number }[]>`
            SELECT id AS player_id, open_bets AS n FROM players WHERE id = ANY(${tx.array(players)}::text[])`.execute(),
    ]);
    const cells = new Map(rows.map((row) => [cellKey(row.t_start, row.low_cents), row.potential_payout_cents]));
    if (!house) throw new Error("exposure_house has no row: the schema is not migrated");
    let houseCents = house.potential_payout_cents;
    const nowMs = clock[0]?.now_ms ?? 0;
    const openByPlayer = new Map(counts.map((row) => [row.player_id, row.n]));
    const added = new Map<string, { t_start: number; low_cents: number; cents: number }>();
    let houseAdded = 0;
    let betsAdded = 0;
    return {
      admit(order) {
        if (lockMs !== undefined && order.tStart - lockMs / 2 <= nowMs) return "cell_locked";
        const open = openByPlayer.get(order.playerId) ?? 0;
        if (caps.maxOpenBets !== undefined && open + 1 > caps.maxOpenBets) return "max_open_bets";
        const key = cellKey(order.tStart, order.lowCents);
        const payout = potentialPayoutCents(order.stakeCents, order.multiplierCenti);
        const cell = cells.get(key) ?? 0;
        let limit: PlacementRefusal | undefined;
        if (!(cell + payout <= caps.maxCellLiabilityCents)) limit = "max_cell_liability";
        else if (!(houseCents + payout <= caps.maxHouseLiabilityCents)) limit = "max_house_liability";
        if (limit) return limit;
        cells.set(key, cell + payout);
        openByPlayer.set(order.playerId, open + 1);
        houseCents += payout;
        const delta = added.get(key) ?? { t_start: order.tStart, low_cents: order.lowCents, cents: 0 };
        delta.cents += payout;
        added.set(key, delta);
        houseAdded += payout;
        betsAdded++;
        return undefined;
      },
      async commit() {
        if (betsAdded === 0) return;
        const deltas = [...added.values()];
        // Sent at once, with the batch's last writes and its COMMIT: the rows are locked since `open`, so a guard
        // fails only if something else wrote them, and then it raises, so that the COMMIT behind it rolls back.
        await Promise.all([
          tx`
            WITH updated AS (
              UPDATE exposure_cells c SET potential_payout_cents = c.potential_payout_cents + d.cents
              FROM jsonb_to_recordset(${json(deltas)}::jsonb) AS d (t_start bigint, low_cents bigint, cents bigint)
              WHERE c.t_start = d.t_start AND c.low_cents = d.low_cents AND c.potential_payout_cents + d.cents <= ${caps.maxCellLiabilityCents}
              RETURNING 1)
            SELECT guard(count(*) = ${deltas.length}, 'a cell reservation passed its cap') FROM updated`.execute(),
          tx`
            WITH updated AS (
              UPDATE exposure_house SET potential_payout_cents = potential_payout_cents + ${houseAdded}, open_bets = open_bets + ${betsAdded}
              WHERE id = 1 AND potential_payout_cents + ${houseAdded} <= ${caps.maxHouseLiabilityCents}
              RETURNING 1)
            SELECT guard(count(*) = 1, 'the house reservation passed its cap') FROM updated`.execute(),
        ]);
      },
    };
  };

  const release = async (tx: PgSql, settled: readonly OpenBet[]): Promise<void> => {
    if (settled.length === 0) return;
    const byCell = new Map<string, { t_start: number; low_cents: number; cents: number }>();
    let house = 0;
    for (const bet of settled) {
      const payout = potentialPayoutCents(bet.stakeCents, bet.multiplierCenti);
      const key = cellKey(bet.tStart, bet.lowCents);
      const delta = byCell.get(key) ?? { t_start: bet.tStart, low_cents: bet.lowCents, cents: 0 };
      delta.cents += payout;
      byCell.set(key, delta);
      house += payout;
    }
    const deltas = json([...byCell.values()]);
    // The placing order (cells sorted, then the house): a batch and a settlement wait, never deadlock.
    await tx`
      SELECT 1 FROM exposure_cells c JOIN jsonb_to_recordset(${deltas}::jsonb) AS d (t_start bigint, low_cents bigint, cents bigint)
        ON c.t_start = d.t_start AND c.low_cents = d.low_cents
      ORDER BY c.t_start, c.low_cents FOR UPDATE OF c`;
    await tx`
      UPDATE exposure_cells c SET potential_payout_cents = greatest(0, c.potential_payout_cents - d.cents)
      FROM jsonb_to_recordset(${deltas}::jsonb) AS d (t_start bigint, low_cents bigint, cents bigint)
      WHERE c.t_start = d.t_start AND c.low_cents = d.low_cents`;
    await tx`
      UPDATE exposure_house SET potential_payout_cents = greatest(0, potential_payout_cents - ${house}), open_bets = greatest(0, open_bets - ${settled.length})
      WHERE id = 1`;
    // A cell emptied after its window started takes no bet again (placement stops before the start): its row goes,
    // so the table holds the cells of open and coming windows, not one row per cell ever bet on.
    await tx`
      DELETE FROM exposure_cells c USING jsonb_to_recordset(${deltas}::jsonb) AS d (t_start bigint, low_cents bigint, cents bigint)
      WHERE c.t_start = d.t_start AND c.low_cents = d.low_cents AND c.potential_payout_cents = 0
        AND c.t_start < (extract(epoch FROM clock_timestamp()) * 1000)::bigint`;
  };

  return {
    open,
    release,
    async read() {
      const [house] = await sql<{ potential_payout_cents: number; open_bets: number }[]>`SELECT potential_payout_cents, open_bets FROM exposure_house WHERE id = 1`;
      const cells = await sql<{ t_start: number; low_cents: number; potential_payout_cents: number }[]>`
        SELECT t_start, low_cents, potential_payout_cents FROM exposure_cells ORDER BY t_start, low_cents`;
      return {
        houseCents: house?.potential_payout_cents ?? 0,
        openBets: house?.open_bets ?? 0,
        cells: cells.map((row) => ({ tStart: row.t_start, lowCents: row.low_cents, cents: row.potential_payout_cents })),
      };
    },
  };
}
