import type postgres from "postgres";
import type { PgSql } from "../../common/store/postgres.ts";
import { type BetOrder, potentialPayoutCents } from "../bets/bet-store.ts";
import type { OpenBet } from "../settlement/settlement-book.ts";
import type { GateMode, PgExposureHook, PlacementGate, PlacementRefusal } from "./postgres-store.ts";

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
 * payout, open bets and their stakes, and each cell's potential payout
 * (cells at zero included).
 *
 * ```ts
 * const { houseCents, openBets, openStakeCents, cells } = await exposure.read();
 * ```
 */
export interface ReservedExposure {
  houseCents: number;
  openBets: number;
  openStakeCents: number;
  cells: { tStart: number; lowCents: number; cents: number }[];
}

const cellKey = (tStart: number, lowCents: number) => `${tStart}:${lowCents}`;

interface CellRow {
  t_start: number;
  low_cents: number;
  potential_payout_cents: number;
}

interface PartRow {
  id: number;
  potential_payout_cents: number;
}

/** A part as `open` reads it; unlocked, with the database's clock in the same statement. */
type HouseRead = PartRow & { now_ms?: number };

/** What a batch adds to one part of the house's reservation (potential payout, bets, stakes), and that part's cap. */
interface PartShare {
  id: number;
  cents: number;
  bets: number;
  stake: number;
  cap: number;
}

/**
 * The parts of the house's reservation (`exposure_house` rows 1 to 8,
 * migration 6). An unlocked batch reserves on one, within its share of the
 * cap; a locked one takes them all.
 *
 * ```ts
 * const [{ n }] = await sql`SELECT count(*)::int AS n FROM exposure_house`; // HOUSE_PARTS
 * ```
 */
export const HOUSE_PARTS = 8;

const CELL_GUARD = "a cell's reservation would pass its cap";
const HOUSE_GUARD = "the house's reservation would pass its cap";
const CLOCK_GUARD = "an admitted bet's window reached its lock line";

/**
 * Whether a placement failed on a reservation guard (`guard()`, migration 5)
 * rather than on anything else: the batch, rolled back whole, may be placed
 * again with its rows locked first.
 *
 * ```ts
 * if (isReservationGuard(error)) return await place(orders, { locked: true });
 * ```
 */
export function isReservationGuard(error: unknown): boolean {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === "string" && [CELL_GUARD, HOUSE_GUARD, CLOCK_GUARD].some((what) => message === `guard failed: ${what}`);
}

/**
 * Exposure caps that hold across api nodes: a reservation in PostgreSQL,
 * made in the group commit's own transaction (`createPostgresStore`'s
 * `exposure` option) and released in the settlement's.
 *
 * In `placeBatch`, after the players' locks, `open` reads the batch's cells
 * (`exposure_cells`) and the house's parts (`exposure_house`, eight rows
 * whose sum is the house's reservation, each capped at an eighth of the cap)
 * and the totals they hold; each order that has the funds is judged in batch
 * order against those totals (`admit`: `max_cell_liability` first, then
 * `max_house_liability` on the sum, the in-memory exposure's order). `commit`
 * adds what was admitted with guarded writes (`… WHERE total + added <= cap`)
 * that must all write their row, or `guard()` raises and the batch rolls back.
 *
 * Unlocked (`{ locked: false }`, the group commit's first try) nothing is
 * locked until `commit`: it locks the cells in order and ONE part, so batches
 * here and on other nodes overlap, and its guards refuse when another batch
 * reserved first or an admitted window reached its lock line meanwhile; the
 * store then places the batch again, locked. Locked, `open` locks the cells
 * (one upsert in (t_start, low_cents) order) and every part (FOR UPDATE, in
 * id order) as it reads them, and `commit` spreads the house's share over
 * the parts with room: another batch over the same rows waits until this
 * COMMIT, then reads the new totals. Either way the caps cannot be passed
 * together, and a part's lock is taken before the bets are numbered.
 * `release` subtracts settled bets' potential payouts (cells, then every
 * part, locked in the same order; never below zero, so settlement is never
 * blocked by a counter) and deletes the cells back at zero whose window has
 * started.
 *
 * ```ts
 * const exposure = createPgExposure(sql, { maxCellLiabilityCents: 500_000, maxHouseLiabilityCents: 5_000_000 });
 * const store = createPostgresStore(sql, { secret, exposure });
 * const [outcome] = await store.bets.placeBatch([order]); // { kind: "limit_exceeded", limit: "max_cell_liability" } when full
 * ```
 */
export function createPgExposure(sql: PgSql, caps: LiabilityCaps): PgExposureHook & { read(): Promise<ReservedExposure> } {
  const json = (value: unknown) => sql.json(value as postgres.JSONValue);
  /** Part `id`'s share of the house cap (ids 1 to HOUSE_PARTS): the shares sum to the cap exactly. */
  const partCap = (id: number) => Math.floor(caps.maxHouseLiabilityCents / HOUSE_PARTS) + (id <= caps.maxHouseLiabilityCents % HOUSE_PARTS ? 1 : 0);
  // Batches of this node take the parts in turn, from a place of their own, so that batches in flight at once
  // (here or on other nodes) mostly lock different parts.
  let turn = Math.floor(Math.random() * HOUSE_PARTS);
  /** An unlocked batch's part: the next in turn with room for it as read (if none, the next: its guard refuses). */
  const onePart = (parts: readonly PartRow[], cents: number, bets: number, stake: number): PartShare => {
    const first = turn++ % HOUSE_PARTS;
    const order = parts.map((_, i) => parts[(first + i) % parts.length]!);
    const part = order.find((row) => row.potential_payout_cents + cents <= partCap(row.id)) ?? order[0]!;
    return { id: part.id, cents, bets, stake, cap: partCap(part.id) };
  };
  /** A locked batch's reservation spread over the parts with room, in id order (the sum was judged against the cap); the bets and stakes go with the first share. */
  const spreadOverParts = (parts: readonly PartRow[], cents: number, bets: number, stake: number): PartShare[] => {
    const shares: PartShare[] = [];
    let left = cents;
    for (const part of parts) {
      const take = Math.min(left, Math.max(0, partCap(part.id) - part.potential_payout_cents));
      if (take > 0) shares.push({ id: part.id, cents: take, bets: shares.length === 0 ? bets : 0, stake: shares.length === 0 ? stake : 0, cap: partCap(part.id) });
      left -= take;
    }
    if (left > 0) throw new Error("the house's parts hold less room than their sum was judged to have: the batch is rolled back");
    return shares;
  };

  const open = async (tx: PgSql, orders: readonly BetOrder[], { locked }: GateMode): Promise<PlacementGate> => {
    const wanted = new Map<string, { t_start: number; low_cents: number }>();
    for (const order of orders) wanted.set(cellKey(order.tStart, order.lowCents), { t_start: order.tStart, low_cents: order.lowCents });
    const { lockMs } = caps;
    const cellList = json([...wanted.values()]);
    // Sent together (one round trip; each `execute()`d as it is made, so in this order) and run in this order: the
    // house, then the cells (every writer takes the parts before the cells), then the clock (locked: read once the
    // house is locked, so no batch commits after the settler's next read of new bets decided before it; unlocked,
    // `reserveHouse` reads it again under the lock).
    const [parts, rows, clock] = await Promise.all([
      locked
        ? tx<HouseRead[]>`SELECT id, potential_payout_cents FROM exposure_house ORDER BY id FOR UPDATE`.execute()
        : tx<HouseRead[]>`
            SELECT id, potential_payout_cents, (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms FROM exposure_house ORDER BY id`.execute(),
      locked
        ? tx<CellRow[]>`
            INSERT INTO exposure_cells (t_start, low_cents)
            SELECT t_start, low_cents FROM jsonb_to_recordset(${cellList}::jsonb) AS c (t_start bigint, low_cents bigint)
            ORDER BY t_start, low_cents
            ON CONFLICT (t_start, low_cents) DO UPDATE SET potential_payout_cents = exposure_cells.potential_payout_cents
            RETURNING t_start, low_cents, potential_payout_cents`.execute()
        : tx<CellRow[]>`
            SELECT e.t_start, e.low_cents, e.potential_payout_cents
            FROM exposure_cells e JOIN jsonb_to_recordset(${cellList}::jsonb) AS c (t_start bigint, low_cents bigint)
              ON e.t_start = c.t_start AND e.low_cents = c.low_cents`.execute(),
      locked && lockMs !== undefined ? tx<{ now_ms: number }[]>`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms`.execute() : [],
    ]);
    const cells = new Map(rows.map((row) => [cellKey(row.t_start, row.low_cents), row.potential_payout_cents]));
    if (parts.length !== HOUSE_PARTS) throw new Error(`exposure_house has ${parts.length} parts, not ${HOUSE_PARTS}: the schema is not migrated`);
    let houseCents = parts.reduce((sum, part) => sum + part.potential_payout_cents, 0);
    const nowMs = (locked ? clock[0]?.now_ms : parts[0]?.now_ms) ?? 0;
    const added = new Map<string, { t_start: number; low_cents: number; cents: number }>();
    let houseAdded = 0;
    let betsAdded = 0;
    let stakeAdded = 0;
    let firstStart = Infinity;
    return {
      admit(order, openBets) {
        if (lockMs !== undefined && order.tStart - lockMs / 2 <= nowMs) return "cell_locked";
        if (caps.maxOpenBets !== undefined && openBets + 1 > caps.maxOpenBets) return "max_open_bets";
        const key = cellKey(order.tStart, order.lowCents);
        const payout = potentialPayoutCents(order.stakeCents, order.multiplierCenti);
        const cell = cells.get(key) ?? 0;
        let limit: PlacementRefusal | undefined;
        if (!(cell + payout <= caps.maxCellLiabilityCents)) limit = "max_cell_liability";
        else if (!(houseCents + payout <= caps.maxHouseLiabilityCents)) limit = "max_house_liability";
        if (limit) return limit;
        cells.set(key, cell + payout);
        houseCents += payout;
        const delta = added.get(key) ?? { t_start: order.tStart, low_cents: order.lowCents, cents: 0 };
        delta.cents += payout;
        added.set(key, delta);
        houseAdded += payout;
        betsAdded++;
        stakeAdded += order.stakeCents;
        firstStart = Math.min(firstStart, order.tStart);
        return undefined;
      },
      reserveHouse() {
        if (betsAdded === 0) return Promise.resolve();
        const shares = locked ? spreadOverParts(parts, houseAdded, betsAdded, stakeAdded) : [onePart(parts, houseAdded, betsAdded, stakeAdded)];
        // Unlocked, the house's statement also reads the clock once the part is locked (the aggregate has read every
        // updated row before its guards run): what `locked` read in `open`.
        const clockGuard =
          locked || lockMs === undefined
            ? sql``
            : sql`, guard((extract(epoch FROM clock_timestamp()) * 1000)::bigint < ${firstStart - lockMs / 2}, ${CLOCK_GUARD})`;
        return tx`
            WITH updated AS (
              UPDATE exposure_house h
              SET potential_payout_cents = h.potential_payout_cents + d.cents, open_bets = h.open_bets + d.bets, open_stake_cents = h.open_stake_cents + d.stake
              FROM jsonb_to_recordset(${json(shares)}::jsonb) AS d (id integer, cents bigint, bets bigint, stake bigint, cap bigint)
              WHERE h.id = d.id AND h.potential_payout_cents + d.cents <= d.cap
              RETURNING 1)
            SELECT guard(count(*) = ${shares.length}, ${HOUSE_GUARD}) ${clockGuard} FROM updated`
          .execute()
          .then(() => undefined);
      },
      reserveCells() {
        if (betsAdded === 0) return Promise.resolve();
        const deltas = json([...added.values()]);
        const cellCount = added.size;
        return (
          locked
            ? tx`
                WITH updated AS (
                  UPDATE exposure_cells c SET potential_payout_cents = c.potential_payout_cents + d.cents
                  FROM jsonb_to_recordset(${deltas}::jsonb) AS d (t_start bigint, low_cents bigint, cents bigint)
                  WHERE c.t_start = d.t_start AND c.low_cents = d.low_cents AND c.potential_payout_cents + d.cents <= ${caps.maxCellLiabilityCents}
                  RETURNING 1)
                SELECT guard(count(*) = ${cellCount}, ${CELL_GUARD}) FROM updated`.execute()
            : tx`
                WITH updated AS (
                  INSERT INTO exposure_cells AS c (t_start, low_cents, potential_payout_cents)
                  SELECT t_start, low_cents, cents FROM jsonb_to_recordset(${deltas}::jsonb) AS d (t_start bigint, low_cents bigint, cents bigint)
                  WHERE cents <= ${caps.maxCellLiabilityCents}
                  ORDER BY t_start, low_cents
                  ON CONFLICT (t_start, low_cents) DO UPDATE SET potential_payout_cents = c.potential_payout_cents + EXCLUDED.potential_payout_cents
                    WHERE c.potential_payout_cents + EXCLUDED.potential_payout_cents <= ${caps.maxCellLiabilityCents}
                  RETURNING 1)
                SELECT guard(count(*) = ${cellCount}, ${CELL_GUARD}) FROM updated`.execute()
        ).then(() => undefined);
      },
    };
  };

  const release = async (tx: PgSql, settled: readonly OpenBet[]): Promise<void> => {
    if (settled.length === 0) return;
    const byCell = new Map<string, { t_start: number; low_cents: number; cents: number }>();
    let house = 0;
    let stakes = 0;
    for (const bet of settled) {
      stakes += bet.stakeCents;
      const payout = potentialPayoutCents(bet.stakeCents, bet.multiplierCenti);
      const key = cellKey(bet.tStart, bet.lowCents);
      const delta = byCell.get(key) ?? { t_start: bet.tStart, low_cents: bet.lowCents, cents: 0 };
      delta.cents += payout;
      byCell.set(key, delta);
      house += payout;
    }
    const deltas = json([...byCell.values()]);
    // The placing order (every part in id order, then the cells sorted): a batch and a settlement wait, never deadlock.
    const parts = await tx<(PartRow & { open_bets: number; open_stake_cents: number })[]>`
      SELECT id, potential_payout_cents, open_bets, open_stake_cents FROM exposure_house ORDER BY id FOR UPDATE`;
    await tx`
      SELECT 1 FROM exposure_cells c JOIN jsonb_to_recordset(${deltas}::jsonb) AS d (t_start bigint, low_cents bigint, cents bigint)
        ON c.t_start = d.t_start AND c.low_cents = d.low_cents
      ORDER BY c.t_start, c.low_cents FOR UPDATE OF c`;
    await tx`
      UPDATE exposure_cells c SET potential_payout_cents = greatest(0, c.potential_payout_cents - d.cents)
      FROM jsonb_to_recordset(${deltas}::jsonb) AS d (t_start bigint, low_cents bigint, cents bigint)
      WHERE c.t_start = d.t_start AND c.low_cents = d.low_cents`;
    // Taken from the parts in id order (never below zero: a part's share is not per bet).
    let cents = house;
    let bets = settled.length;
    let stake = stakes;
    const taken = parts.flatMap((part) => {
      const share = {
        id: part.id,
        cents: Math.min(cents, part.potential_payout_cents),
        bets: Math.min(bets, part.open_bets),
        stake: Math.min(stake, part.open_stake_cents),
      };
      cents -= share.cents;
      bets -= share.bets;
      stake -= share.stake;
      return share.cents > 0 || share.bets > 0 || share.stake > 0 ? [share] : [];
    });
    if (taken.length > 0) {
      await tx`
        UPDATE exposure_house h
        SET potential_payout_cents = h.potential_payout_cents - d.cents, open_bets = h.open_bets - d.bets, open_stake_cents = h.open_stake_cents - d.stake
        FROM jsonb_to_recordset(${json(taken)}::jsonb) AS d (id integer, cents bigint, bets bigint, stake bigint)
        WHERE h.id = d.id`;
    }
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
      const [house] = await sql<{ potential_payout_cents: number; open_bets: number; open_stake_cents: number }[]>`
        SELECT sum(potential_payout_cents)::bigint AS potential_payout_cents, sum(open_bets)::bigint AS open_bets,
               sum(open_stake_cents)::bigint AS open_stake_cents FROM exposure_house`;
      const cells = await sql<{ t_start: number; low_cents: number; potential_payout_cents: number }[]>`
        SELECT t_start, low_cents, potential_payout_cents FROM exposure_cells ORDER BY t_start, low_cents`;
      return {
        houseCents: house?.potential_payout_cents ?? 0,
        openBets: house?.open_bets ?? 0,
        openStakeCents: house?.open_stake_cents ?? 0,
        cells: cells.map((row) => ({ tStart: row.t_start, lowCents: row.low_cents, cents: row.potential_payout_cents })),
      };
    },
  };
}
