/**
 * Exposure caps across api nodes on a real PostgreSQL server (a database of
 * this run's own, dropped after): two "nodes" (two pools, each its own store
 * and reservation) placing at once against tight caps never pass them, a
 * refused bet writes nothing, and settlement gives the reservation back.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type BetOrder, potentialPayoutCents } from "../api/bets/bet-store.ts";
import { createPgExposure, isReservationGuard, type LiabilityCaps } from "../api/store/pg-exposure.ts";
import { type CappedPlaceOutcome, type CappedPostgresStore, createPostgresStore } from "../api/store/postgres-store.ts";
import { type MoneyTables, moneyInvariantsBroken, orderFor } from "../api/store/store.behaviour.ts";
import { openPostgresStore, type PgSql } from "../common/store/postgres.ts";
import { inTransaction } from "../common/store/pg-transaction.ts";
import { createTempDatabase, postgresMissing, type TempDatabase } from "./support/postgres.ts";

setDefaultTimeout(30_000);

const missing = await postgresMissing();
// CI installs PostgreSQL (scripts/setup.sh): there a missing server is a failure, not a skip.
if (missing && !process.env.CI) console.warn(`test/pg-exposure.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

interface Node {
  sql: PgSql;
  store: CappedPostgresStore;
  exposure: ReturnType<typeof createPgExposure>;
}

describe.skipIf(!run)("exposure caps across nodes", () => {
  let database: TempDatabase;
  const nodes: Node[] = [];
  let players = 0;
  let window = 0;

  beforeAll(async () => {
    if (missing) throw new Error(`CI must have PostgreSQL: ${missing}`);
    database = await createTempDatabase("tap_test");
  });

  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.sql.end({ timeout: 5 })));
    await database?.drop();
  });

  async function openNode(caps: LiabilityCaps): Promise<Node> {
    const sql = await openPostgresStore(database.url, { max: 4, applicationName: `tap-exposure-${nodes.length}` });
    const exposure = createPgExposure(sql, caps);
    const node = { sql, exposure, store: createPostgresStore(sql, { secret: "exposure", exposure }) };
    nodes.push(node);
    return node;
  }

  const tables = async (sql: PgSql): Promise<MoneyTables> => ({
    players: [...(await sql<MoneyTables["players"]>`SELECT id, balance_cents, open_bets FROM players`)],
    ledger: [...(await sql<MoneyTables["ledger"]>`SELECT player_id, kind, amount_cents, bet_id FROM ledger`)],
    bets: [...(await sql<MoneyTables["bets"]>`SELECT id, player_id, stake_cents, multiplier_centi, status, payout_cents FROM bets`)],
  });

  interface OpenRow {
    id: string;
    t_start: number;
    price_low_cents: number;
    stake_cents: number;
    multiplier_centi: number;
  }
  const openBets = (sql: PgSql) => sql<OpenRow[]>`SELECT id, t_start, price_low_cents, stake_cents, multiplier_centi FROM bets WHERE status = 'open'`;

  /** Potential payouts of the open bets, summed here from the bets themselves: per cell and in total. */
  function liabilityOf(rows: readonly OpenRow[]) {
    const cells = new Map<string, number>();
    let house = 0;
    for (const row of rows) {
      const payout = potentialPayoutCents(row.stake_cents, row.multiplier_centi);
      const key = `${row.t_start}:${row.price_low_cents}`;
      cells.set(key, (cells.get(key) ?? 0) + payout);
      house += payout;
    }
    return { cells, house };
  }

  /** The reservation tables hold exactly what the open bets owe: the house's payout, their count and stakes, each cell's payout. */
  async function expectReservationOfOpenBets(node: Node) {
    const rows = await openBets(node.sql);
    const { cells, house } = liabilityOf(rows);
    const reserved = await node.exposure.read();
    expect(reserved.houseCents).toBe(house);
    expect(reserved.openBets).toBe(rows.length);
    expect(reserved.openStakeCents).toBe(rows.reduce((sum, row) => sum + row.stake_cents, 0));
    for (const cell of reserved.cells) expect(cell.cents).toBe(cells.get(`${cell.tStart}:${cell.lowCents}`) ?? 0);
  }

  /** A fresh window of `cells` cells and `count` players with plenty of money, in its own time so cases do not share cells. */
  async function market(node: Node, count: number, cellCount: number) {
    const tStart = 1_797_100_000_000 + ++window * 60_000;
    const ids = Array.from({ length: count }, () => `exposure-player-${++players}`);
    for (const id of ids) await node.store.players.create(id, 10_000_000, 1);
    const cells = Array.from({ length: cellCount }, (_, i) => ({ lowCents: 4_200_000 + i * 1000, highCents: 4_201_000 + i * 1000 }));
    let n = 0;
    /**
     * A pseudo-random order (stake 1–20 €, multiplier 1.5–5×) over these cells, for one of these
     * players, or one of `among` (batches over different players do not wait on each other's locks).
     */
    const order = (among: readonly string[] = ids): BetOrder => {
      n++;
      const cell = cells[(n * 7) % cells.length]!;
      return orderFor(among[(n * 13) % among.length]!, 100 + ((n * 379) % 1900), {
        tStart,
        tEnd: tStart + 5000,
        lowCents: cell.lowCents,
        highCents: cell.highCents,
        multiplierCenti: 150 + ((n * 53) % 350),
      });
    };
    return { order, tStart, ids };
  }

  test("two nodes placing at once against tight caps never pass a cell's or the house's cap; refused bets write nothing", async () => {
    const caps = { maxCellLiabilityCents: 20_000, maxHouseLiabilityCents: 60_000 };
    const [a, b] = [await openNode(caps), await openNode(caps)];
    const { order, ids } = await market(a, 12, 5);
    // 2 nodes × 3 batchers each × 12 batches of 8 orders: far more asked than the caps allow. Each
    // batcher has players of its own, so only the reservation's rows make concurrent batches wait.
    const batches = Array.from({ length: 72 }, (_, i) => Array.from({ length: 8 }, () => order(ids.slice((i % 6) * 2, (i % 6) * 2 + 2))));
    const answers = new Map<string, CappedPlaceOutcome>();
    const lanes = Array.from({ length: 6 }, (_, lane) =>
      (async () => {
        const node = lane % 2 === 0 ? a : b;
        for (let i = lane; i < batches.length; i += 6) {
          const outcomes = await node.store.bets.placeBatch(batches[i]!);
          outcomes.forEach((outcome, j) => answers.set(batches[i]![j]!.id, outcome));
        }
      })(),
    );
    await Promise.all(lanes);

    const kinds = [...answers.values()].map((outcome) => (outcome.kind === "limit_exceeded" ? outcome.limit : outcome.kind));
    const placed = kinds.filter((kind) => kind === "placed").length;
    const refusedCell = kinds.filter((kind) => kind === "max_cell_liability").length;
    const refusedHouse = kinds.filter((kind) => kind === "max_house_liability").length;
    console.log(`exposure race: ${answers.size} orders, ${placed} placed, ${refusedCell} refused by a cell's cap, ${refusedHouse} by the house's`);
    expect(placed + refusedCell + refusedHouse).toBe(answers.size);
    expect(refusedHouse).toBeGreaterThan(0);

    const rows = await openBets(a.sql);
    const { cells, house } = liabilityOf(rows);
    expect(house).toBeLessThanOrEqual(caps.maxHouseLiabilityCents);
    for (const [cell, cents] of cells) expect({ cell, cents, within: cents <= caps.maxCellLiabilityCents }).toEqual({ cell, cents, within: true });
    // Exactly the bets answered placed are stored; a refused one left no bet and no stake.
    const stored = new Set(rows.map((row) => row.id));
    const answeredPlaced = [...answers].filter(([, outcome]) => outcome.kind === "placed").map(([id]) => id);
    expect([...stored].sort()).toEqual(answeredPlaced.sort());
    const all = await tables(a.sql);
    const staked = new Set(all.ledger.filter((entry) => entry.kind === "stake").map((entry) => entry.bet_id));
    expect([...answers].filter(([id, outcome]) => outcome.kind === "limit_exceeded" && staked.has(id))).toEqual([]);
    expect(moneyInvariantsBroken(all)).toEqual([]);
    // The reservation tables say what the open bets sum to.
    const reserved = await a.exposure.read();
    expect(reserved.houseCents).toBe(house);
    expect(reserved.openBets).toBe(rows.length);
    expect(reserved.openStakeCents).toBe(rows.reduce((sum, row) => sum + row.stake_cents, 0));
    for (const cell of reserved.cells) expect(cell.cents).toBe(cells.get(`${cell.tStart}:${cell.lowCents}`) ?? 0);
  });

  test("each cell's cap holds across nodes when the house has room: every cell filled to at most its cap", async () => {
    const caps = { maxCellLiabilityCents: 9_000, maxHouseLiabilityCents: 100_000_000 };
    const [a, b] = [await openNode(caps), await openNode(caps)];
    const before = liabilityOf(await openBets(a.sql));
    const { order, tStart, ids } = await market(a, 8, 3);
    const batches = Array.from({ length: 40 }, (_, i) => Array.from({ length: 6 }, () => order([ids[i % 8]!])));
    const results = await Promise.all(batches.map((batch, i) => (i % 2 === 0 ? a : b).store.bets.placeBatch(batch)));
    const refusals = results.flat().filter((outcome) => outcome.kind === "limit_exceeded");
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((outcome) => outcome.kind === "limit_exceeded" && outcome.limit === "max_cell_liability")).toBe(true);
    const rows = (await openBets(a.sql)).filter((row) => row.t_start === tStart);
    const { cells, house } = liabilityOf(rows);
    expect(cells.size).toBe(3);
    for (const [cell, cents] of cells) expect({ cell, cents, within: cents <= caps.maxCellLiabilityCents }).toEqual({ cell, cents, within: true });
    expect((await a.exposure.read()).houseCents).toBe(before.house + house);
  });

  test("settling one window while two nodes place into others, over the same players and the house row, never deadlocks and keeps the reservation exact", async () => {
    const caps = { maxCellLiabilityCents: 40_000, maxHouseLiabilityCents: 100_000_000 };
    const [a, b] = [await openNode(caps), await openNode(caps)];
    let previous = await market(a, 6, 4);
    for (let round = 0; round < 5; round++) await a.store.bets.placeBatch(Array.from({ length: 12 }, () => previous.order()));
    for (let round = 0; round < 10; round++) {
      const next = await market(a, 0, 4);
      const toSettle = (await b.store.settlement.openBets()).filter((bet) => bet.tStart === previous.tStart);
      await Promise.all([
        b.store.settlement.settle(toSettle.map((bet, i) => ({ bet, outcome: i % 3 === 0 ? "won" : "lost", at: bet.tEnd })), previous.tStart + 5001),
        a.store.bets.placeBatch(Array.from({ length: 12 }, () => next.order(previous.ids))),
        b.store.bets.placeBatch(Array.from({ length: 12 }, () => next.order([...previous.ids].reverse()))),
      ]);
      previous = { ...next, ids: previous.ids };
    }
    await expectReservationOfOpenBets(a);
    expect(moneyInvariantsBroken(await tables(a.sql))).toEqual([]);
  });

  test("settling bets of the very cells two nodes are placing into never deadlocks: every writer takes the house's parts before the cells", async () => {
    // Not a case the clock allows (a window's bets settle after its start, when no bet is placed into it), but the
    // lock order must not depend on that: settlement locks every part then the cells, a batch its part then the cells.
    const caps = { maxCellLiabilityCents: 1e9, maxHouseLiabilityCents: 1e12 };
    const [a, b] = [await openNode(caps), await openNode(caps)];
    const { order, ids, tStart } = await market(a, 8, 3);
    for (let round = 0; round < 30; round++) {
      const toSettle = (await b.store.settlement.openBets()).filter((bet) => bet.tStart === tStart).slice(0, 6);
      await Promise.all([
        b.store.settlement.settle(toSettle.map((bet, i) => ({ bet, outcome: i % 2 === 0 ? "won" : "lost", at: bet.tEnd })), tStart + 5001),
        a.store.bets.placeBatch(Array.from({ length: 6 }, () => order(ids.slice(0, 4)))),
        b.store.bets.placeBatch(Array.from({ length: 6 }, () => order(ids.slice(4)))),
      ]);
    }
    await expectReservationOfOpenBets(a);
    expect(moneyInvariantsBroken(await tables(a.sql))).toEqual([]);
  });

  test("settlement releases what it settles: the reservation returns to what the open bets owe and the cap takes bets again", async () => {
    const caps = { maxCellLiabilityCents: 5_000, maxHouseLiabilityCents: 100_000_000 };
    const [a, b] = [await openNode(caps), await openNode(caps)];
    const { order, tStart } = await market(a, 2, 1);
    // Fill the one cell until it refuses.
    let outcome: CappedPlaceOutcome | undefined;
    for (let i = 0; i < 50 && outcome?.kind !== "limit_exceeded"; i++) [outcome] = await a.store.bets.placeBatch([order()]);
    expect(outcome).toEqual({ kind: "limit_exceeded", limit: "max_cell_liability" });
    const inCell = (await b.store.settlement.openBets()).filter((bet) => bet.tStart === tStart);
    expect(inCell.length).toBeGreaterThan(0);
    const cellOf = async () => (await b.exposure.read()).cells.find((cell) => cell.tStart === tStart)!.cents;
    expect(await cellOf()).toBe(liabilityOf((await openBets(a.sql)).filter((row) => row.t_start === tStart)).house);
    const houseBefore = (await b.exposure.read()).houseCents;

    // Node B settles half (won, void), then the rest (lost); settling again changes nothing.
    const half = inCell.slice(0, Math.ceil(inCell.length / 2));
    await b.store.settlement.settle(half.map((bet, i) => ({ bet, outcome: i % 2 === 0 ? "won" : "void", at: bet.tEnd })), tStart + 5001);
    const releasedHalf = half.reduce((sum, bet) => sum + potentialPayoutCents(bet.stakeCents, bet.multiplierCenti), 0);
    expect((await b.exposure.read()).houseCents).toBe(houseBefore - releasedHalf);
    expect(await cellOf()).toBe(liabilityOf((await openBets(a.sql)).filter((row) => row.t_start === tStart)).house);
    const everything = inCell.map((bet) => ({ bet, outcome: "lost" as const, at: bet.tEnd }));
    await b.store.settlement.settle(everything, tStart + 5002);
    await b.store.settlement.settle(everything, tStart + 5003);
    expect(await cellOf()).toBe(0);
    expect((await b.exposure.read()).houseCents).toBe(houseBefore - inCell.reduce((sum, bet) => sum + potentialPayoutCents(bet.stakeCents, bet.multiplierCenti), 0));
    expect(moneyInvariantsBroken(await tables(a.sql))).toEqual([]);

    // The cell takes bets again, up to its whole cap.
    const [again] = await a.store.bets.placeBatch([{ ...order(), stakeCents: 1000, multiplierCenti: 500 }]);
    expect(again?.kind).toBe("placed");
  });

  test("a cell emptied by settlement after its window started leaves the table; a coming window's empty cell stays", async () => {
    const node = await openNode({ maxCellLiabilityCents: 1e9, maxHouseLiabilityCents: 1e12 });
    const { ids } = await market(node, 1, 1);
    const started = Date.now() - 10_000;
    const coming = Date.now() + 600_000;
    const at = (tStart: number, lowCents: number) => orderFor(ids[0]!, 100, { tStart, tEnd: tStart + 5000, lowCents, highCents: lowCents + 1000, multiplierCenti: 300 });
    const placed = await node.store.bets.placeBatch([at(started, 4_300_000), at(started, 4_301_000), at(coming, 4_300_000)]);
    expect(placed.map((outcome) => outcome.kind)).toEqual(["placed", "placed", "placed"]);
    const open = (await node.store.settlement.openBets()).filter((bet) => bet.playerId === ids[0]);
    const rowsAt = async (tStart: number) => (await node.exposure.read()).cells.filter((cell) => cell.tStart === tStart).map((cell) => [cell.lowCents, cell.cents]);

    // One bet of the started window settled: its cell leaves; the other, still owed, stays.
    const first = open.find((bet) => bet.tStart === started && bet.lowCents === 4_300_000)!;
    await node.store.settlement.settle([{ bet: first, outcome: "lost", at: first.tEnd }], Date.now());
    expect(await rowsAt(started)).toEqual([[4_301_000, 300]]);
    // The coming window's bet settled (void) leaves its cell at zero, kept: bets may still come.
    const later = open.find((bet) => bet.tStart === coming)!;
    await node.store.settlement.settle([{ bet: later, outcome: "void", at: Date.now() }], Date.now());
    expect(await rowsAt(coming)).toEqual([[4_300_000, 0]]);
    expect(moneyInvariantsBroken(await tables(node.sql))).toEqual([]);
  });
  test("a player's open bets are bounded across nodes by MAX_OPEN_BETS, and settling some makes room again", async () => {
    const caps = { maxCellLiabilityCents: 1e9, maxHouseLiabilityCents: 1e12, maxOpenBets: 5 };
    const [a, b] = [await openNode(caps), await openNode(caps)];
    const { order, ids } = await market(a, 1, 4);
    // Both nodes at once, four batches of three orders for the one player: twelve asked, five may be open.
    const answers = (await Promise.all([0, 1, 2, 3].map((i) => (i % 2 === 0 ? a : b).store.bets.placeBatch([order(), order(), order()])))).flat();
    expect(answers.filter((answer) => answer.kind === "placed")).toHaveLength(5);
    expect(answers.filter((answer) => answer.kind === "limit_exceeded" && answer.limit === "max_open_bets")).toHaveLength(7);
    expect(moneyInvariantsBroken(await tables(a.sql))).toEqual([]);

    // Two settled (one won, one lost): exactly two more are taken, on either node.
    const open = (await b.store.settlement.openBets()).filter((bet) => bet.playerId === ids[0]);
    await b.store.settlement.settle([{ bet: open[0]!, outcome: "won", at: open[0]!.tEnd }, { bet: open[1]!, outcome: "lost", at: open[1]!.tEnd }], Date.now());
    const again = [...(await a.store.bets.placeBatch([order()])), ...(await b.store.bets.placeBatch([order(), order()]))];
    expect(again.map((answer) => (answer.kind === "limit_exceeded" ? answer.limit : answer.kind))).toEqual(["placed", "placed", "max_open_bets"]);
    const [row] = await a.sql<{ open_bets: number }[]>`SELECT open_bets FROM players WHERE id = ${ids[0]!}`;
    expect(row!.open_bets).toBe(5);
    expect(moneyInvariantsBroken(await tables(a.sql))).toEqual([]);
  });

  test("a reservation the database's guard refuses rolls the whole batch back, though its COMMIT was sent with it", async () => {
    const node = await openNode({ maxCellLiabilityCents: 1e9, maxHouseLiabilityCents: 1e12 });
    const { order } = await market(node, 1, 1);
    const bet = order();
    const before = await node.exposure.read();
    const attempt = inTransaction(node.sql, async (tx, control) => {
      const gate = await node.exposure.open(tx, [bet], { locked: true });
      expect(gate.admit(bet, 0)).toBeUndefined();
      // The house filled after the gate read it: only this transaction can write the locked rows, so do it here.
      await tx`UPDATE exposure_house SET potential_payout_cents = ${1e12 / 8}`;
      const sentinel = tx`INSERT INTO players (id, created_at) VALUES ('guard-sentinel', 0)`.execute();
      await Promise.all([sentinel, gate.reserveHouse(), gate.reserveCells(), control.commit()]);
    });
    const error = await attempt.catch((caught: unknown) => caught);
    expect(String(error)).toContain("guard failed: the house's reservation would pass its cap");
    expect(isReservationGuard(error)).toBe(true);
    expect(await node.sql`SELECT id FROM players WHERE id = 'guard-sentinel'`).toHaveLength(0);
    expect(await node.exposure.read()).toEqual(before);
  });

  test("an unlocked gate whose cell another node filled after it read refuses at commit, and the store places that batch again locked", async () => {
    const caps = { maxCellLiabilityCents: 1_000, maxHouseLiabilityCents: 1e12 };
    const [a, b] = [await openNode(caps), await openNode(caps)];
    const { ids, tStart } = await market(a, 2, 1);
    const bet = (player: string) => orderFor(player, 300, { tStart, tEnd: tStart + 5000, lowCents: 4_200_000, highCents: 4_201_000, multiplierCenti: 300 });
    const late = bet(ids[0]!);
    const attempt = inTransaction(a.sql, async (tx, control) => {
      const gate = await a.exposure.open(tx, [late], { locked: false });
      expect(gate.admit(late, 0)).toBeUndefined(); // 900 of 1,000 as read
      // Meanwhile node B takes 900 of the cell (its batch commits: nothing of A's is locked yet).
      expect((await b.store.bets.placeBatch([bet(ids[1]!)])).map((outcome) => outcome.kind)).toEqual(["placed"]);
      const sentinel = tx`INSERT INTO players (id, created_at) VALUES ('unlocked-sentinel', 0)`.execute();
      await Promise.all([gate.reserveHouse(), sentinel, gate.reserveCells(), control.commit()]);
    });
    const error = await attempt.catch((caught: unknown) => caught);
    expect(String(error)).toContain("guard failed: a cell's reservation would pass its cap");
    expect(isReservationGuard(error)).toBe(true);
    expect(await a.sql`SELECT id FROM players WHERE id = 'unlocked-sentinel'`).toHaveLength(0);
    // Through the store, the same order is refused by the cap, and the cell holds B's bet alone.
    expect(await a.store.bets.placeBatch([bet(ids[0]!)])).toEqual([{ kind: "limit_exceeded", limit: "max_cell_liability" }]);
    expect((await a.exposure.read()).cells.find((cell) => cell.tStart === tStart)?.cents).toBe(900);
    expect(moneyInvariantsBroken(await tables(a.sql))).toEqual([]);
  });

  test("an unlocked gate refuses at commit a bet whose window reached its lock line after it was admitted", async () => {
    const lockMs = 2_000;
    const node = await openNode({ maxCellLiabilityCents: 1e9, maxHouseLiabilityCents: 1e12, lockMs });
    const { ids } = await market(node, 1, 1);
    // The line (start − lockMs / 2) 300 ms from now by the database's clock.
    const [{ now_ms } = { now_ms: 0 }] = await node.sql<{ now_ms: number }[]>`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms`;
    const tStart = now_ms + lockMs / 2 + 300;
    const order = orderFor(ids[0]!, 100, { tStart, tEnd: tStart + 5000, lowCents: 4_300_000, highCents: 4_301_000, multiplierCenti: 200 });
    const attempt = inTransaction(node.sql, async (tx, control) => {
      const gate = await node.exposure.open(tx, [order], { locked: false });
      expect(gate.admit(order, 0)).toBeUndefined();
      await Bun.sleep(400);
      await Promise.all([gate.reserveHouse(), gate.reserveCells(), control.commit()]);
    });
    const error = await attempt.catch((caught: unknown) => caught);
    expect(String(error)).toContain("guard failed: an admitted bet's window reached its lock line");
    // Through the store, now: refused cell_locked, nothing stored.
    expect(await node.store.bets.placeBatch([order])).toEqual([{ kind: "cell_locked" }]);
    expect(await node.sql`SELECT id FROM bets WHERE player_id = ${ids[0]!}`).toHaveLength(0);
  });
  test("the house's cap is judged on the sum of its parts: a bet that fits no single part is placed locked, spread over them, and the sum never passes the cap", async () => {
    // A database of its own: the other cases leave bets open on the house.
    const own = await createTempDatabase("tap_test");
    const sql = await openPostgresStore(own.url, { max: 2, applicationName: "tap-exposure-parts" });
    const exposure = createPgExposure(sql, { maxCellLiabilityCents: 1e9, maxHouseLiabilityCents: 800 });
    const node: Node = { sql, exposure, store: createPostgresStore(sql, { secret: "exposure", exposure }) };
    try {
      await partsCase(node);
    } finally {
      await sql.end({ timeout: 5 });
      await own.drop();
    }
  });

  async function partsCase(node: Node) {
    // 8 parts of 100 cents: after eight bets owing 90, 80 cents are free, 10 in each part.
    const { ids, tStart } = await market(node, 1, 1);
    const owing = (stakeCents: number, multiplierCenti: number) =>
      orderFor(ids[0]!, stakeCents, { tStart, tEnd: tStart + 5000, lowCents: 4_400_000, highCents: 4_401_000, multiplierCenti });
    for (let i = 0; i < 8; i++) expect((await node.store.bets.placeBatch([owing(30, 300)]))[0]?.kind).toBe("placed");
    const parts = () => node.sql<{ id: number; cents: number }[]>`SELECT id, potential_payout_cents AS cents FROM exposure_house ORDER BY id`;
    expect((await parts()).map((part) => part.cents)).toEqual([90, 90, 90, 90, 90, 90, 90, 90]);
    // 70 fits the sum (80 free), no part (10 each).
    expect((await node.store.bets.placeBatch([owing(35, 200)]))[0]?.kind).toBe("placed");
    expect((await parts()).reduce((sum, part) => sum + part.cents, 0)).toBe(790);
    expect((await parts()).every((part) => part.cents <= 100)).toBe(true);
    // 20 does not fit the 10 left.
    expect(await node.store.bets.placeBatch([owing(10, 200)])).toEqual([{ kind: "limit_exceeded", limit: "max_house_liability" }]);
    // Settling every bet gives all of it back, whichever parts held it.
    const open = (await node.store.settlement.openBets()).filter((bet) => bet.playerId === ids[0]);
    await node.store.settlement.settle(open.map((bet) => ({ bet, outcome: "lost" as const, at: bet.tEnd })), Date.now());
    expect((await parts()).map((part) => part.cents)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect((await node.exposure.read()).openBets).toBe(0);
    expect(moneyInvariantsBroken(await tables(node.sql))).toEqual([]);
  }
});
