import { createHmac, timingSafeEqual } from "node:crypto";
import type postgres from "postgres";
import type { Leaderboard } from "../../common/contracts/leaderboard.ts";
import { fromCents } from "../../common/money.ts";
import type { PgSql } from "../../common/store/postgres.ts";
import { inTransaction, settledInOrder } from "../../common/store/pg-transaction.ts";
import { type BetOrder, type BetRow, type PlaceOutcome, placedBetRow, potentialPayoutCents } from "../bets/bet-store.ts";
import { LEADERBOARD_SIZE } from "../leaderboard/leaderboard.ts";
import { newRecoveryCode, normalizeRecoveryCode } from "../players/recovery-codes.ts";
import { firstDecisionPerBet, openBetOf, type Settled, windowKey } from "../settlement/settle-store.ts";
import type { Decision, OpenBet } from "../settlement/settlement-book.ts";
import type { JudgedTick } from "../settlement/tick-log.ts";
import type { Store, StoreOptions } from "./store.ts";
import { isReservationGuard } from "./pg-exposure.ts";

const DAY_MS = 86_400_000;
/** A bet id past every real one (UUIDs are ASCII), for the first page. */
const LAST_ID = "\uffff";

/** A transaction, or the pool for a statement on its own. */
type Tx = PgSql;
/** A bet row as SQLite's (a plain copy, which compares and logs alike), without `seq`: only the settler's reader uses it (api/store/pg-open-bets.ts). */
const betRow = (row: BetRow & { seq?: number }): BetRow => {
  const { seq: _seq, ...bet } = row;
  return bet;
};

interface TickRow {
  ts: number;
  seq: number | null;
  price: number;
  sig: string | null;
  continuous: number;
}

const judgedOf = (row: TickRow): JudgedTick => {
  const tick: JudgedTick["tick"] = { symbol: "BTC-USD", price: row.price, ts: row.ts };
  if (row.seq !== null) tick.seq = row.seq;
  if (row.sig !== null) tick.sig = row.sig;
  return { tick, continuous: row.continuous === 1 };
};

/**
 * Which cap a bet would pass: the same names as the in-memory exposure's refusals.
 *
 * ```ts
 * const limit: LiabilityLimit = "max_cell_liability";
 * ```
 */
export type LiabilityLimit = "max_cell_liability" | "max_house_liability";

/**
 * Why the database's gate refused an order: a cap, the player's open bets, or a window too close to its start.
 *
 * ```ts
 * const refusal: PlacementRefusal = "cell_locked";
 * ```
 */
export type PlacementRefusal = LiabilityLimit | "max_open_bets" | "cell_locked";

/**
 * A group commit's outcome when the store reserves exposure: a bet that would
 * pass a cap is refused `limit_exceeded` and writes nothing.
 *
 * ```ts
 * const outcome: CappedPlaceOutcome = { kind: "limit_exceeded", limit: "max_house_liability" };
 * ```
 */
export type CappedPlaceOutcome = PlaceOutcome;

/**
 * One batch's exposure reservation, inside its transaction (api/store/pg-exposure.ts):
 * `admit` judges an order that has the funds (in batch order, in memory, on
 * totals read under lock; `openBets` is the player's open bets before it, read
 * with the player's lock and counting the batch's). `reserveHouse` and
 * `reserveCells` send what was admitted, each as it is called (a statement
 * `execute()`d, resolved when it ran), pipelined with the batch's other
 * writes and its COMMIT, so a check on what they write raises in the server,
 * not after the answer. The house's part first: the bets' numbers are drawn
 * under its lock (api/store/pg-open-bets.ts); the cells after the bets, so
 * that a cell every batch bets on is held only through its own statement
 * and the COMMIT.
 *
 * ```ts
 * const gate = await exposure.open(tx, orders, { locked: false });
 * const refusal = gate.admit(order, 3); // undefined: admitted
 * await settledInOrder([gate.reserveHouse(), insertBets(), gate.reserveCells(), control.commit()]);
 * ```
 */
export interface PlacementGate {
  admit(order: BetOrder, openBets: number): PlacementRefusal | undefined;
  reserveHouse(): Promise<void>;
  reserveCells(): Promise<void>;
}

/**
 * How a batch's gate reads the reservation: `locked`, its cells' and the
 * house's rows are locked as they are read (and stay locked to COMMIT);
 * otherwise they are read as committed and locked only by `commit`, whose
 * guards then refuse the batch if another reserved first.
 *
 * ```ts
 * const gate = await exposure.open(tx, orders, { locked: false });
 * ```
 */
export interface GateMode {
  locked: boolean;
}

/**
 * Exposure reserved in the database: `open` reads what a batch's orders touch
 * (after the players' locks), `release` gives back the settled bets' share in
 * the settlement's transaction.
 *
 * ```ts
 * const store = createPostgresStore(sql, { secret, exposure: createPgExposure(sql, limits) });
 * ```
 */
export interface PgExposureHook {
  open(tx: PgSql, orders: readonly BetOrder[], mode: GateMode): Promise<PlacementGate>;
  release(tx: PgSql, settled: readonly OpenBet[]): Promise<void>;
}

/**
 * What the PostgreSQL store adds to `StoreOptions`, both optional (without
 * them it behaves as before): `fenceSettlement` runs first in every
 * settlement transaction and throws to abort it (the settler lease's epoch
 * check); `exposure` reserves caps with the bets and releases them on
 * settlement.
 *
 * ```ts
 * const options: PostgresStoreOptions = { secret, fenceSettlement: (tx) => lease.fence(tx), exposure };
 * ```
 */
export interface PostgresStoreOptions extends StoreOptions {
  fenceSettlement?: (tx: PgSql) => Promise<void>;
  exposure?: PgExposureHook;
}

/**
 * The PostgreSQL store whose group commit reserves exposure: `placeBatch` may
 * also answer `limit_exceeded`.
 *
 * ```ts
 * const store: CappedPostgresStore = createPostgresStore(sql, { secret, exposure });
 * ```
 */
export type CappedPostgresStore = Omit<Store, "bets"> & {
  bets: Omit<Store["bets"], "placeBatch"> & { placeBatch(orders: readonly BetOrder[]): Promise<CappedPlaceOutcome[]> };
};

/**
 * The store on PostgreSQL (postgres.js, a pool from `openPostgresStore`),
 * with the SQLite store's outcomes (the `Store` contract, checked by one
 * behaviour suite on both).
 *
 * The group commit is ONE transaction per batch in two round trips: lock
 * the batch's players in id order (`FOR UPDATE`) and read their balances and open bets;
 * read the Idempotency-Keys they used before (after the lock, so a batch
 * racing on another node for the same player has committed or not begun);
 * judge every order in memory exactly as SQLite's `place` does; then one
 * statement inserts every bet and its stake (the ledger's statement trigger
 * moves the balances), sent with COMMIT (`synchronous_commit = on`); BEGIN
 * goes with the first round trip (`inTransaction`). Settlement
 * is one transaction per call: the tick, one UPDATE of the decided bets that
 * are still open (`RETURNING` which), one INSERT of exactly their credits.
 *
 * ```ts
 * With `exposure` (api/store/pg-exposure.ts) the group commit also reserves
 * the cells' and the house's liability in its transaction and may answer
 * `limit_exceeded`; settlement releases what it settles. With
 * `fenceSettlement` (api/store/settler-lease.ts) every settlement
 * transaction first checks the lease and writes nothing when it throws.
 *
 * ```ts
 * const sql = await openPostgresStore(process.env.DATABASE_URL!);
 * const store = createPostgresStore(sql, { secret: config.sessionSecret, exposure: createPgExposure(sql, caps) });
 * const [outcome] = await store.bets.placeBatch([order]);
 * ```
 */
export function createPostgresStore(sql: PgSql, options: PostgresStoreOptions & { exposure: PgExposureHook }): CappedPostgresStore;
/**
 * Without `exposure` the store is a plain `Store`: its group commit answers
 * exactly as before (`fenceSettlement`, when given, only adds the check).
 *
 * ```ts
 * const store: Store = createPostgresStore(sql, { secret, fenceSettlement: (tx) => lease.fence(tx) });
 * ```
 */
export function createPostgresStore(sql: PgSql, options: StoreOptions & { fenceSettlement?: (tx: PgSql) => Promise<void> }): Store;
/**
 * The implementation of both forms above.
 *
 * ```ts
 * const store = createPostgresStore(sql, { secret });
 * ```
 */
export function createPostgresStore(sql: PgSql, { secret, leaderboardCacheMs = 1000, onDisagreement, fenceSettlement, exposure }: PostgresStoreOptions): Store | CappedPostgresStore {
  const recoveryHash = recoveryCodeHasher(secret);
  /** A JSON array as one parameter: a batch's statement has one text whatever its size, so it is prepared once. */
  const json = (value: unknown) => sql.json(value as postgres.JSONValue);
  const appendTick = async (tx: Tx, { tick, continuous }: JudgedTick, receivedAt: number) => {
    await tx`INSERT INTO ticks (ts, seq, price, price_cents, sig, continuous, received_at)
             VALUES (${tick.ts}, ${tick.seq ?? null}, ${tick.price}, ${Math.round(tick.price * 100)}, ${tick.sig ?? null}, ${continuous ? 1 : 0}, ${receivedAt})`;
  };
  /** Locks the players in id order (the ledger trigger's order: no deadlock) and returns their balances and open bets. */
  const lockPlayers = async (tx: Tx, ids: readonly string[]) => {
    // Sent now (execute), not when awaited: a pipeline's statements run in the order they are sent.
    const rows = await tx<{ id: string; balance_cents: number; open_bets: number }[]>`
      SELECT id, balance_cents, open_bets FROM players WHERE id = ANY(${tx.array([...new Set(ids)])}::text[]) ORDER BY id FOR UPDATE`.execute();
    return new Map(rows.map((row) => [row.id, { balanceCents: row.balance_cents, openBets: row.open_bets }]));
  };

  const placeBatch = async (orders: readonly BetOrder[]): Promise<CappedPlaceOutcome[]> => {
    if (orders.length === 0) return [];
    if (!exposure) return await place(orders, { locked: true });
    try {
      return await place(orders, { locked: false });
    } catch (error) {
      // Another batch reserved the last room first (or a window reached its lock line): nothing was written.
      if (!isReservationGuard(error)) throw error;
      return await place(orders, { locked: true });
    }
  };

  const place = async (orders: readonly BetOrder[], mode: GateMode): Promise<CappedPlaceOutcome[]> => {
    return await inTransaction(sql, async (sqlTx, control) => {
      const tx = sqlTx as unknown as Tx;
      const keyOf = (playerId: string, key: string) => JSON.stringify([playerId, key]);
      const keyed = orders.flatMap((order) => (order.idempotencyKey === null ? [] : [{ player_id: order.playerId, key: order.idempotencyKey }]));
      // Sent together, one round trip, and run in the order sent (each `execute()`d as it is made: an awaited
      // query is only sent a microtask later): the players' locks; the keys they used before (after
      // the locks, so a batch racing on another node for the same player has committed or not begun); then the
      // exposure's cells and house, as settlement takes them.
      const locked = lockPlayers(tx, orders.map((order) => order.playerId));
      const usedKeys =
        keyed.length === 0
          ? []
          : tx<BetRow[]>`
              SELECT b.* FROM bets b JOIN jsonb_to_recordset(${json(keyed)}::jsonb) AS k (player_id text, key text)
                ON b.player_id = k.player_id AND b.idempotency_key = k.key`.execute();
      const opened = exposure?.open(tx, orders, mode);
      const [players, keyRows, gate] = await Promise.all([locked, usedKeys, opened]);
      const earlier = new Map<string, BetRow>();
      for (const row of keyRows) earlier.set(keyOf(row.player_id, row.idempotency_key!), betRow(row));
      const outcomes: CappedPlaceOutcome[] = [];
      const placed: BetRow[] = [];
      for (const order of orders) {
        const key = order.idempotencyKey === null ? undefined : keyOf(order.playerId, order.idempotencyKey);
        const replayed = key === undefined ? undefined : earlier.get(key);
        if (replayed) {
          outcomes.push({ kind: "replayed", bet: replayed });
          continue;
        }
        const player = players.get(order.playerId);
        if (player === undefined) {
          outcomes.push({ kind: "unknown_player" });
          continue;
        }
        if (player.balanceCents < order.stakeCents) {
          outcomes.push({ kind: "insufficient_funds", balanceCents: player.balanceCents });
          continue;
        }
        const refusal = gate?.admit(order, player.openBets);
        if (refusal) {
          outcomes.push(refusal === "cell_locked" ? { kind: "cell_locked" } : { kind: "limit_exceeded", limit: refusal });
          continue;
        }
        const bet = placedBetRow(order, player.balanceCents - order.stakeCents);
        player.balanceCents = bet.balance_after_cents;
        player.openBets++;
        if (key !== undefined) earlier.set(key, bet);
        placed.push(bet);
        outcomes.push({ kind: "placed", bet });
      }
      // The house's part, the bets and their stakes, the cells, and COMMIT: one round trip, run in this order (the
      // bets' numbers are drawn once the house row is locked: api/store/pg-open-bets.ts; a cell's row, which every
      // batch on that cell must update, is held from its statement to the COMMIT, not through the INSERT too).
      const house = gate?.reserveHouse();
      const inserting =
        placed.length === 0
          ? undefined
          : tx`
          WITH placed AS (
            INSERT INTO bets (id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, created_at,
                              balance_after_cents, idempotency_key, quote_id, min_multiplier_centi)
            SELECT id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, created_at,
                   balance_after_cents, idempotency_key, quote_id, min_multiplier_centi
            FROM jsonb_to_recordset(${json(placed)}::jsonb) AS b (id text, player_id text, stake_cents bigint, t_start bigint, t_end bigint,
                   price_low_cents bigint, price_high_cents bigint, multiplier_centi integer, created_at bigint, balance_after_cents bigint,
                   idempotency_key text, quote_id text, min_multiplier_centi integer)
            RETURNING id, player_id, stake_cents, created_at)
          INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at)
          SELECT player_id, 'stake', -stake_cents, id, created_at FROM placed`.execute();
      const cells = gate?.reserveCells();
      await settledInOrder([house, inserting, cells, control.commit()]);
      return outcomes;
    });
  };

  /** Tells `onDisagreement` of each window whose book losses are not exactly its open bets in the database. */
  const checkLostWindows = async (tx: Tx, decisions: readonly Decision[]) => {
    const byWindow = new Map<string, Decision["bet"][]>();
    for (const { bet, outcome } of decisions) {
      if (outcome !== "lost") continue;
      const key = windowKey(bet);
      const bets = byWindow.get(key);
      if (bets) bets.push(bet);
      else byWindow.set(key, [bet]);
    }
    if (!onDisagreement || byWindow.size === 0) return;
    const windows = [...byWindow.values()].map((bets) => ({ t_start: bets[0]!.tStart, t_end: bets[0]!.tEnd }));
    const rows = await tx<{ t_start: number; t_end: number; ids: string[] }[]>`
      SELECT w.t_start, w.t_end, array_remove(array_agg(b.id), NULL) AS ids
      FROM jsonb_to_recordset(${json(windows)}::jsonb) AS w (t_start bigint, t_end bigint)
      LEFT JOIN bets b ON b.t_end = w.t_end AND b.t_start = w.t_start AND b.status = 'open'
      GROUP BY w.t_start, w.t_end`;
    for (const row of rows) {
      const bets = byWindow.get(windowKey({ tStart: row.t_start, tEnd: row.t_end }))!;
      const open = new Set(row.ids);
      if (open.size !== bets.length || !bets.every((bet) => open.has(bet.id))) {
        onDisagreement({ tStart: row.t_start, tEnd: row.t_end, book: bets.length, database: open.size });
      }
    }
  };

  const settle = async (all: readonly Decision[], now: number, judged?: JudgedTick): Promise<Settled[]> => {
    if (all.length === 0 && !judged) return [];
    const decisions = firstDecisionPerBet(all);
    return await inTransaction(sql, async (sqlTx) => {
      const tx = sqlTx as unknown as Tx;
      if (fenceSettlement) await fenceSettlement(tx);
      if (judged) await appendTick(tx, judged, now);
      if (decisions.length === 0) return [];
      await checkLostWindows(tx, all);
      const players = await lockPlayers(tx, decisions.map(({ bet }) => bet.playerId));
      const amountOf = ({ bet, outcome }: Decision) =>
        outcome === "won" ? potentialPayoutCents(bet.stakeCents, bet.multiplierCenti) : outcome === "void" ? bet.stakeCents : 0;
      const marks = decisions.map((decision) => ({
        id: decision.bet.id,
        t_end: decision.bet.tEnd,
        outcome: decision.outcome,
        payout_cents: decision.outcome === "won" ? amountOf(decision) : 0,
      }));
      // Only bets still open change: settling twice pays once.
      const changedRows = await tx<{ id: string }[]>`
        UPDATE bets b SET status = d.outcome, payout_cents = d.payout_cents, settled_at = ${now}
        FROM jsonb_to_recordset(${json(marks)}::jsonb) AS d (id text, t_end bigint, outcome text, payout_cents bigint)
        WHERE b.id = d.id AND b.t_end = d.t_end AND b.status = 'open'
        RETURNING b.id`;
      const changed = new Set(changedRows.map((row) => row.id));
      const settled: Settled[] = [];
      const credits: { player_id: string; kind: "payout" | "refund"; amount_cents: number; bet_id: string }[] = [];
      for (const decision of decisions) {
        const { bet, outcome } = decision;
        if (!changed.has(bet.id)) continue;
        const amount = amountOf(decision);
        if (amount > 0) credits.push({ player_id: bet.playerId, kind: outcome === "won" ? "payout" : "refund", amount_cents: amount, bet_id: bet.id });
        const player = players.get(bet.playerId)!;
        player.balanceCents += amount;
        const after = player.balanceCents;
        settled.push({ betId: bet.id, playerId: bet.playerId, outcome, payoutCents: outcome === "won" ? amount : 0, balanceCents: after });
      }
      if (credits.length > 0) {
        await tx`
          INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at)
          SELECT player_id, kind, amount_cents, bet_id, ${now}
          FROM jsonb_to_recordset(${json(credits)}::jsonb) AS c (player_id text, kind text, amount_cents bigint, bet_id text)`;
      }
      if (exposure && changed.size > 0) await exposure.release(tx, decisions.filter(({ bet }) => changed.has(bet.id)).map(({ bet }) => bet));
      return settled;
    });
  };

  let cachedBoard: { at: number; day: number; board: Leaderboard } | undefined;
  const readLeaderboard = async (now: number): Promise<Leaderboard> => {
    const day = Math.floor(now / DAY_MS);
    if (cachedBoard && cachedBoard.day === day && now - cachedBoard.at < leaderboardCacheMs && now >= cachedBoard.at) return cachedBoard.board;
    const start = day * DAY_MS;
    // Ties by nickname in SQLite's NOCASE order: ASCII folded to lower case, then bytes.
    const rows = await sql<{ nickname: string; net: number }[]>`
      SELECT n.nickname AS nickname, s.net AS net
      FROM (SELECT player_id, sum(payout_cents - stake_cents)::bigint AS net
            FROM bets WHERE status IN ('won', 'lost') AND settled_at >= ${start} AND settled_at < ${start + DAY_MS}
            GROUP BY player_id) AS s
      JOIN nicknames AS n ON n.player_id = s.player_id
      ORDER BY s.net DESC, lower(n.nickname) COLLATE "C"
      LIMIT ${LEADERBOARD_SIZE}`;
    const board: Leaderboard = {
      day: new Date(start).toISOString().slice(0, 10),
      entries: rows.map((row, i) => ({ rank: i + 1, nickname: row.nickname, net: fromCents(row.net) })),
    };
    cachedBoard = { at: now, day, board };
    return board;
  };

  return {
    kind: "postgres",
    players: {
      async create(id, grantCents, now) {
        await inTransaction(sql, async (tx) => {
          await tx`INSERT INTO players (id, created_at) VALUES (${id}, ${now})`;
          if (grantCents > 0) await tx`INSERT INTO ledger (player_id, kind, amount_cents, created_at) VALUES (${id}, 'grant', ${grantCents}, ${now})`;
        });
      },
      async balance(id) {
        const [row] = await sql<{ balance_cents: number }[]>`SELECT balance_cents FROM players WHERE id = ${id}`;
        return row?.balance_cents;
      },
      async exposure(id) {
        const [row] = await sql<{ open_bets: number; staked: number; payout: number }[]>`
          SELECT count(*)::bigint AS open_bets, coalesce(sum(stake_cents), 0)::bigint AS staked,
                 coalesce(sum(stake_cents * multiplier_centi / 100), 0)::bigint AS payout
          FROM bets WHERE player_id = ${id} AND status = 'open'`;
        return { openBets: row!.open_bets, stakedCents: row!.staked, potentialPayoutCents: row!.payout };
      },
      async totals(id) {
        const [row] = await sql<{ bets: number; staked: number; paid: number }[]>`
          SELECT count(*)::bigint AS bets, coalesce(sum(stake_cents), 0)::bigint AS staked,
                 coalesce(sum(CASE status WHEN 'void' THEN stake_cents ELSE payout_cents END), 0)::bigint AS paid
          FROM bets WHERE player_id = ${id}`;
        return { bets: row!.bets, stakedCents: row!.staked, paidOutCents: row!.paid };
      },
    },
    nicknames: {
      async set(playerId, nickname, now) {
        try {
          await sql`INSERT INTO nicknames (player_id, nickname, set_at) VALUES (${playerId}, ${nickname}, ${now})
                    ON CONFLICT (player_id) DO UPDATE SET nickname = excluded.nickname, set_at = excluded.set_at`;
          return "ok";
        } catch (error) {
          // player_id is the conflict target, so a unique violation can only be nicknames_nocase: another player's name.
          if ((error as { code?: string }).code === "23505") return "taken";
          throw error;
        }
      },
      async get(playerId) {
        const [row] = await sql<{ nickname: string }[]>`SELECT nickname FROM nicknames WHERE player_id = ${playerId}`;
        return row?.nickname;
      },
    },
    recoveryCodes: {
      async issue(playerId, now) {
        const code = newRecoveryCode();
        await sql`INSERT INTO recovery_codes (player_id, code_hash, created_at) VALUES (${playerId}, ${recoveryHash(code)}, ${now})
                  ON CONFLICT (player_id) DO UPDATE SET code_hash = excluded.code_hash, created_at = excluded.created_at`;
        return code;
      },
      async redeem(code) {
        const wanted = recoveryHash(code);
        const [row] = await sql<{ player_id: string; code_hash: string }[]>`DELETE FROM recovery_codes WHERE code_hash = ${wanted} RETURNING player_id, code_hash`;
        if (!row || !timingSafeEqual(Buffer.from(row.code_hash), Buffer.from(wanted))) return undefined;
        return row.player_id;
      },
    },
    bets: {
      placeBatch,
      async byIdempotencyKey(playerId, key) {
        const [row] = await sql<BetRow[]>`SELECT * FROM bets WHERE player_id = ${playerId} AND idempotency_key = ${key}`;
        return row && betRow(row);
      },
      async get(playerId, betId) {
        const [row] = await sql<BetRow[]>`SELECT * FROM bets WHERE id = ${betId} AND player_id = ${playerId}`;
        return row && betRow(row);
      },
      async page(playerId, { before, status, limit }) {
        // Byte order, as SQLite compares ids, whatever the database's collation.
        const rows = await sql<BetRow[]>`
          SELECT * FROM bets
          WHERE player_id = ${playerId} AND id COLLATE "C" < ${before ?? LAST_ID} AND (${status ?? null}::text IS NULL OR status = ${status ?? null}::text)
          ORDER BY id COLLATE "C" DESC LIMIT ${limit}`;
        return rows.map(betRow);
      },
    },
    settlement: {
      settle,
      async openBets() {
        const rows = await sql<BetRow[]>`
          SELECT id, player_id, t_start, t_end, price_low_cents, price_high_cents, stake_cents, multiplier_centi
          FROM bets WHERE status = 'open' ORDER BY t_end, id COLLATE "C"`;
        return rows.map(openBetOf);
      },
      async oldestOpenStart() {
        const [row] = await sql<{ t: number | null }[]>`SELECT min(t_start) AS t FROM bets WHERE status = 'open'`;
        return row?.t ?? undefined;
      },
    },
    ticks: {
      async append(judged, receivedAt) {
        await appendTick(sql, judged, receivedAt);
      },
      async last() {
        const [row] = await sql<TickRow[]>`SELECT ts, seq, price, sig, continuous FROM ticks ORDER BY ts DESC LIMIT 1`;
        return row ? judgedOf(row) : undefined;
      },
      async range(from, to) {
        const rows = await sql<TickRow[]>`SELECT ts, seq, price, sig, continuous FROM ticks WHERE ts >= ${from} AND ts <= ${to} ORDER BY ts`;
        return rows.map(judgedOf);
      },
    },
    leaderboard: { read: readLeaderboard },
  };
}

/**
 * The keyed hash a recovery code is stored as: the same derivation as
 * api/players/recovery-codes.ts (HMAC-SHA256 under a key derived from the
 * session secret, over the normalized code), so a code issued on one store
 * redeems on a copy of its rows in the other (tested).
 *
 * ```ts
 * const hash = recoveryCodeHasher(secret);
 * hash("7k3m-q9xa-2b8d-w4tz-h6np") === hash("7K3M Q9XA 2B8D W4TZ H6NP"); // true
 * ```
 */
export function recoveryCodeHasher(secret: string): (code: string) => string {
  const key = createHmac("sha256", secret).update("tap-trading recovery codes").digest();
  return (code) => createHmac("sha256", key).update(normalizeRecoveryCode(code)).digest("hex");
}
