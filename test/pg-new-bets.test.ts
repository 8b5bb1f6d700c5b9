/**
 * The settler's reads of other nodes' bets (api/store/pg-open-bets.ts) against
 * two nodes placing at once on a real PostgreSQL: every placed bet is read
 * exactly once, and never after a read whose clock had already passed its
 * window's start less LOCK_MS / 2 (from then on the settler judges that window).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { BetOrder } from "../api/bets/bet-store.ts";
import { createPgExposure } from "../api/store/pg-exposure.ts";
import { createNewBetReader } from "../api/store/pg-open-bets.ts";
import { createPostgresStore } from "../api/store/postgres-store.ts";
import { openPostgresStore, type PgSql } from "../common/store/postgres.ts";
import { createTempDatabase, postgresMissing, type TempDatabase } from "./support/postgres.ts";

// These tests use a real PostgreSQL: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const missing = await postgresMissing();
if (missing && !process.env.CI) console.warn(`test/pg-new-bets.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

const LOCK_MS = 500;
const PLAYERS = 40;
const RUN_MS = 2500;

describe.skipIf(!run)("reading the bets every node stores", () => {
  let database: TempDatabase;
  const pools: PgSql[] = [];

  beforeAll(async () => {
    if (missing) throw new Error(`CI must have PostgreSQL: ${missing}`);
    database = await createTempDatabase("tap_newbets");
    for (let i = 0; i < 3; i++) pools.push(await openPostgresStore(database.url, { max: 4, applicationName: `tap-newbets-${i}` }));
  });

  afterAll(async () => {
    for (const pool of pools) await pool.end({ timeout: 1 });
    await database?.drop();
  });

  test("two nodes placing near the lock line: each bet is read once, and before any read whose clock reached its start less LOCK_MS / 2", async () => {
    const caps = { maxCellLiabilityCents: 1e12, maxHouseLiabilityCents: 1e15, maxOpenBets: 1_000_000, lockMs: LOCK_MS };
    const nodes = pools.slice(0, 2).map((sql) => createPostgresStore(sql, { secret: "new-bets-test", exposure: createPgExposure(sql, caps) }));
    const now = Date.now();
    for (let p = 0; p < PLAYERS; p++) await nodes[0]!.players.create(`p${p}`, 100_000_000, now);

    let sequence = 0;
    const placed = new Map<string, number>(); // bet id → t_start
    let refusedLocked = 0;
    const stopAt = Date.now() + RUN_MS;
    // Windows starting 230–310 ms ahead: the line (LOCK_MS / 2 = 250 ms) falls inside, by the database's clock.
    const order = (): BetOrder => {
      const tStart = Date.now() + 230 + Math.floor(Math.random() * 80);
      return {
        id: `bet-${String(++sequence).padStart(8, "0")}`,
        playerId: `p${sequence % PLAYERS}`,
        stakeCents: 100,
        tStart,
        tEnd: tStart + 1000,
        lowCents: 4_200_000,
        highCents: 4_201_000,
        multiplierCenti: 250,
        createdAt: Date.now(),
        idempotencyKey: null,
        quoteId: null,
        minMultiplierCenti: null,
      };
    };
    const placing = nodes.map(async (node) => {
      while (Date.now() < stopAt) {
        const orders = Array.from({ length: 1 + Math.floor(Math.random() * 20) }, order);
        const outcomes = await node.bets.placeBatch(orders);
        outcomes.forEach((outcome, i) => {
          if (outcome.kind === "placed") placed.set(outcome.bet.id, orders[i]!.tStart);
          else if (outcome.kind === "cell_locked") refusedLocked++;
          else throw new Error(`unexpected ${outcome.kind}`);
        });
      }
    });

    const reader = createNewBetReader(pools[2]!);
    const reads: { at: number; ids: string[] }[] = [];
    const reading = (async () => {
      while (Date.now() < stopAt) {
        const { bets, at } = await reader.read();
        reads.push({ at, ids: bets.map((bet) => bet.id) });
        await Bun.sleep(Math.floor(Math.random() * 15));
      }
    })();
    await Promise.all([...placing, reading]);
    const last = await reader.read();
    reads.push({ at: last.at, ids: last.bets.map((bet) => bet.id) });

    const readAt = new Map<string, number>(); // bet id → index of the read that returned it
    const twice: string[] = [];
    reads.forEach(({ ids }, index) => {
      for (const id of ids) {
        if (readAt.has(id)) twice.push(id);
        readAt.set(id, index);
      }
    });
    expect(twice).toEqual([]);
    expect(new Set(readAt.keys())).toEqual(new Set(placed.keys()));

    // Had an earlier read's clock passed the line, the settler would already have judged the window without this bet.
    const late = [...placed].flatMap(([id, tStart]) => {
      const index = readAt.get(id)!;
      const earlier = reads.slice(0, index).find((read) => read.at >= tStart - LOCK_MS / 2);
      return earlier ? [{ id, tStart, readIndex: index, earlierReadAt: earlier.at }] : [];
    });
    expect(late).toEqual([]);
    console.log(`new bets: ${placed.size} placed, ${refusedLocked} refused cell_locked, ${reads.length} reads`);
    expect(placed.size).toBeGreaterThan(100);
    expect(refusedLocked).toBeGreaterThan(0);
  });
});
