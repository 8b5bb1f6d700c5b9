/**
 * The PostgreSQL schema on a real server, in a database of this run's own:
 * migrations apply once (twice is a no-op, two nodes at once do not race), and
 * the constraints refuse what the SQLite schema refuses.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { pgMigrations } from "../common/store/pg-migrations.ts";
import { inTransaction } from "../common/store/pg-transaction.ts";
import { migratePostgres, openPostgresStore, type PgSql } from "../common/store/postgres.ts";
import { createTempDatabase, postgresMissing, type TempDatabase } from "./support/postgres.ts";

setDefaultTimeout(30_000);

const missing = await postgresMissing();
// CI installs PostgreSQL (scripts/setup.sh): there a missing server is a failure, not a skip.
if (missing && !process.env.CI) console.warn(`test/pg-store.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

const latest = Math.max(...pgMigrations.map((migration) => migration.version));

describe.skipIf(!run)("the PostgreSQL store's schema", () => {
  let database: TempDatabase;
  let sql: PgSql;

  beforeAll(async () => {
    if (missing) throw new Error(`CI must have PostgreSQL: ${missing}`);
    database = await createTempDatabase("tap_test");
    sql = await openPostgresStore(database.url, { max: 4 });
  });

  afterAll(async () => {
    await sql?.end({ timeout: 5 });
    await database?.drop();
  });

  /** Runs `fn` in a transaction that is always rolled back, so each check starts from the same rows. */
  async function refused(fn: (tx: PgSql) => Promise<unknown>): Promise<string> {
    const rollback = new Error("rolled back on purpose");
    const outcome = await inTransaction(sql, async (tx) => {
      await fn(tx as unknown as PgSql);
      throw rollback;
    }).catch((error: unknown) => error);
    if (outcome === rollback) return "accepted";
    return (outcome as { code?: string; message: string }).code ?? (outcome as Error).message;
  }

  async function seedPlayer(tx: PgSql, id: string, grantCents: number): Promise<void> {
    await tx`INSERT INTO players (id, created_at) VALUES (${id}, 1)`;
    if (grantCents > 0) await tx`INSERT INTO ledger (player_id, kind, amount_cents, created_at) VALUES (${id}, 'grant', ${grantCents}, 1)`;
  }

  async function seedBet(tx: PgSql, id: string, playerId: string, columns: { stake?: number; multiplier?: number; minMultiplier?: number | null } = {}): Promise<void> {
    await tx`INSERT INTO bets (id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, created_at, balance_after_cents, min_multiplier_centi)
             VALUES (${id}, ${playerId}, ${columns.stake ?? 100}, 1000, 6000, 100, 200, ${columns.multiplier ?? 150}, 1, 0, ${columns.minMultiplier ?? null})`;
  }

  test("applies every migration once; applying again, even from two nodes at once, changes nothing", async () => {
    expect(await sql`SELECT version, name FROM schema_version ORDER BY version`).toEqual(
      pgMigrations.map((migration) => ({ version: migration.version, name: migration.name })) as never,
    );
    const [again, concurrentA, concurrentB] = await Promise.all([migratePostgres(sql), migratePostgres(sql), migratePostgres(sql)]);
    expect([again, concurrentA, concurrentB]).toEqual([0, 0, 0]);
    const [{ versions }] = await sql<[{ versions: number }]>`SELECT count(*)::int AS versions FROM schema_version`;
    expect(versions).toBe(pgMigrations.length);
    expect(latest).toBe(pgMigrations.at(-1)!.version);
  });

  test("two fresh nodes migrating one empty database at once: one applies, the other waits and applies nothing", async () => {
    const fresh = await createTempDatabase("tap_test");
    try {
      const nodes = await Promise.all([openPostgresStore(fresh.url, { max: 1 }), openPostgresStore(fresh.url, { max: 1 })]);
      try {
        const [{ versions }] = await nodes[0]<[{ versions: number }]>`SELECT count(*)::int AS versions FROM schema_version`;
        expect(versions).toBe(pgMigrations.length);
      } finally {
        await Promise.all(nodes.map((node) => node.end({ timeout: 5 })));
      }
    } finally {
      await fresh.drop();
    }
  });

  test("the ledger moves the balance: a multi-row insert adds each player's rows, and BIGINT comes back as a number", async () => {
    const balances = await inTransaction(sql, async (tx) => {
      await seedPlayer(tx as unknown as PgSql, "ledger_a", 0);
      await seedPlayer(tx as unknown as PgSql, "ledger_b", 0);
      await tx`INSERT INTO ledger (player_id, kind, amount_cents, created_at)
               VALUES ('ledger_a', 'grant', 1000, 1), ('ledger_b', 'grant', 250, 1), ('ledger_a', 'grant', 5, 1)`;
      return tx`SELECT id, balance_cents FROM players WHERE id IN ('ledger_a', 'ledger_b') ORDER BY id`;
    });
    expect(balances).toEqual([
      { id: "ledger_a", balance_cents: 1005 },
      { id: "ledger_b", balance_cents: 250 },
    ] as never);
  });

  test("migration 9 carries the stakes of the bets already open into the house's reservation, on its first part", async () => {
    const own = await createTempDatabase("tap_test");
    try {
      const before = await openPostgresStore(own.url, { max: 1, migrations: pgMigrations.filter((migration) => migration.version < 9) });
      try {
        await inTransaction(before, async (tx) => {
          await seedPlayer(tx as unknown as PgSql, "m9-player", 10_000);
          for (const [id, stake] of [["m9-a", 250], ["m9-b", 1_000], ["m9-c", 40]] as const) await seedBet(tx as unknown as PgSql, id, "m9-player", { stake });
          await tx`UPDATE bets SET status = 'lost', settled_at = 7000 WHERE id = 'm9-c'`;
        });
      } finally {
        await before.end({ timeout: 5 });
      }
      const after = await openPostgresStore(own.url, { max: 1 });
      try {
        const parts = await after<{ id: number; open_stake_cents: number }[]>`SELECT id, open_stake_cents FROM exposure_house ORDER BY id`;
        expect([...parts]).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((id) => ({ id, open_stake_cents: id === 1 ? 1_250 : 0 })));
      } finally {
        await after.end({ timeout: 5 });
      }
    } finally {
      await own.drop();
    }
  });

  test("a BIGINT beyond 2^53 is refused rather than rounded", async () => {
    const outcome = await sql`SELECT 9007199254740993::bigint AS cents`.catch((error: unknown) => error);
    expect(outcome).toBeInstanceOf(RangeError);
    expect(await sql`SELECT 9007199254740991::bigint AS cents`).toEqual([{ cents: Number.MAX_SAFE_INTEGER }] as never);
  });

  test("a stake beyond the balance is refused (the balance never goes negative)", async () => {
    expect(
      await refused(async (tx) => {
        await seedPlayer(tx, "poor", 50);
        await seedBet(tx, "poor_bet", "poor");
        await tx`INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES ('poor', 'stake', -100, 'poor_bet', 1)`;
      }),
    ).toBe("23514");
    expect(
      await refused(async (tx) => {
        await seedPlayer(tx, "rich", 500);
        await seedBet(tx, "rich_bet", "rich");
        await tx`INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES ('rich', 'stake', -100, 'rich_bet', 1)`;
      }),
    ).toBe("accepted");
  });

  test("a bet below its slippage floor, a too-small multiplier or a bad band is refused", async () => {
    const bet = (columns: Parameters<typeof seedBet>[3]) =>
      refused(async (tx) => {
        await seedPlayer(tx, "bettor", 1000);
        await seedBet(tx, "b1", "bettor", columns);
      });
    expect(await bet({ multiplier: 150, minMultiplier: 151 })).toBe("23514");
    expect(await bet({ multiplier: 150, minMultiplier: 100 })).toBe("23514");
    expect(await bet({ multiplier: 100 })).toBe("23514");
    expect(await bet({ stake: 0 })).toBe("23514");
    expect(await bet({ multiplier: 150, minMultiplier: 150 })).toBe("accepted");
    expect(
      await refused(async (tx) => {
        await seedPlayer(tx, "bettor", 1000);
        await tx`INSERT INTO bets (id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, created_at, balance_after_cents)
                 VALUES ('b2', 'bettor', 100, 6000, 1000, 100, 200, 150, 1, 0)`;
      }),
    ).toBe("23514");
  });

  test("a bet gets one stake and one settlement credit at most: a second credit is refused", async () => {
    const settle = (second: "payout" | "refund" | null) =>
      refused(async (tx) => {
        await seedPlayer(tx, "winner", 1000);
        await seedBet(tx, "won_bet", "winner");
        await tx`INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES ('winner', 'stake', -100, 'won_bet', 1)`;
        await tx`INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES ('winner', 'payout', 150, 'won_bet', 2)`;
        if (second) await tx`INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES ('winner', ${second}, 150, 'won_bet', 3)`;
      });
    expect(await settle(null)).toBe("accepted");
    expect(await settle("payout")).toBe("23505");
    expect(await settle("refund")).toBe("23505");
    expect(
      await refused(async (tx) => {
        await seedPlayer(tx, "twice", 1000);
        await seedBet(tx, "twice_bet", "twice");
        await tx`INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at)
                 VALUES ('twice', 'stake', -100, 'twice_bet', 1), ('twice', 'stake', -100, 'twice_bet', 1)`;
      }),
    ).toBe("23505");
  });

  test("ledger rows of the wrong sign or kind are refused, and the ledger is append-only", async () => {
    const entry = (kind: string, amount: number, betId: string | null) =>
      refused(async (tx) => {
        await seedPlayer(tx, "signs", 1000);
        await seedBet(tx, "signs_bet", "signs");
        await tx`INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES ('signs', ${kind}, ${amount}, ${betId}, 1)`;
      });
    expect(await entry("stake", 100, "signs_bet")).toBe("23514");
    expect(await entry("payout", -100, "signs_bet")).toBe("23514");
    expect(await entry("grant", 100, "signs_bet")).toBe("23514");
    expect(await entry("payout", 100, null)).toBe("23514");
    expect(await entry("bonus", 100, null)).toBe("23514");
    expect(await entry("grant", 0, null)).toBe("23514");
    expect(await entry("refund", 100, "no_such_bet")).toBe("23503");

    const edit = (change: (tx: PgSql) => Promise<unknown>) =>
      refused(async (tx) => {
        await seedPlayer(tx, "fixed", 1000);
        await change(tx);
      });
    expect(await edit((tx) => tx`UPDATE ledger SET amount_cents = 5000 WHERE player_id = 'fixed'`)).toBe("P0001"); // raised by ledger_is_append_only
    expect(await edit((tx) => tx`DELETE FROM ledger WHERE player_id = 'fixed'`)).toBe("P0001"); // raised by ledger_is_append_only
    expect(await edit((tx) => tx`TRUNCATE ledger CASCADE`)).toBe("P0001"); // raised by ledger_is_append_only
  });

  test("nicknames are unique regardless of case and 3 to 20 characters; one recovery code per player and per hash", async () => {
    const nick = (first: string, second: string) =>
      refused(async (tx) => {
        await seedPlayer(tx, "n1", 0);
        await seedPlayer(tx, "n2", 0);
        await tx`INSERT INTO nicknames (player_id, nickname, set_at) VALUES ('n1', ${first}, 1)`;
        await tx`INSERT INTO nicknames (player_id, nickname, set_at) VALUES ('n2', ${second}, 1)`;
      });
    expect(await nick("Satoshi", "sAtOsHi")).toBe("23505");
    expect(await nick("Satoshi", "Hal")).toBe("accepted");
    expect(await nick("Satoshi", "ab")).toBe("23514");
    expect(await nick("Satoshi", "a".repeat(21))).toBe("23514");

    const codes = (secondPlayer: string, secondHash: string) =>
      refused(async (tx) => {
        await seedPlayer(tx, "r1", 0);
        await seedPlayer(tx, "r2", 0);
        await tx`INSERT INTO recovery_codes (player_id, code_hash, created_at) VALUES ('r1', 'h1', 1)`;
        await tx`INSERT INTO recovery_codes (player_id, code_hash, created_at) VALUES (${secondPlayer}, ${secondHash}, 1)`;
      });
    expect(await codes("r2", "h1")).toBe("23505");
    expect(await codes("r1", "h2")).toBe("23505");
    expect(await codes("r2", "h2")).toBe("accepted");
  });

  test("a tick's price must be positive and its continuity 0 or 1; the readiness probe keeps one row", async () => {
    const tick = (price: number, continuous: number) =>
      refused((tx) => tx`INSERT INTO ticks (ts, seq, price, price_cents, continuous, received_at) VALUES (1, 1, ${price}, 100, ${continuous}, 1)`);
    expect(await tick(0, 1)).toBe("23514");
    expect(await tick(1.5, 2)).toBe("23514");
    expect(await tick(1.5, 0)).toBe("accepted");
    expect(await refused((tx) => tx`INSERT INTO health_probe (id, token, checked_at) VALUES (2, 'x', 1)`)).toBe("23514");
  });
  test("bet ids are ordered by their bytes, and a player's history page is read in that order from the index, not sorted", async () => {
    const columns = await sql<{ table_name: string; column_name: string; collation_name: string }[]>`
      SELECT table_name, column_name, collation_name FROM information_schema.columns
      WHERE (table_name, column_name) IN (('bets', 'id'), ('ledger', 'bet_id')) ORDER BY table_name`;
    expect(columns.map((column) => [column.table_name, column.column_name, column.collation_name])).toEqual([
      ["bets", "id", "C"],
      ["ledger", "bet_id", "C"],
    ]);
    await seedPlayer(sql, "history-player", 100_000);
    // "B" < "a" in bytes; most locales put "a" first.
    for (const id of ["history-a", "history-B", "history-c"]) await seedBet(sql, id, "history-player");
    const page = (await sql<{ id: string }[]>`SELECT id FROM bets WHERE player_id = 'history-player' ORDER BY id COLLATE "C" DESC`).map((row) => row.id);
    expect(page).toEqual(["history-c", "history-a", "history-B"]);
    // A table this small would be scanned and sorted anyway: with both made dear, a sort stays only if no index has the order.
    const text = await inTransaction(sql, async (tx) => {
      await tx`SET LOCAL enable_seqscan = off`;
      await tx`SET LOCAL enable_sort = off`;
      const [plan] = await tx.unsafe(`EXPLAIN (FORMAT JSON) SELECT id FROM bets WHERE player_id = 'history-player' AND id COLLATE "C" < 'zzz' ORDER BY id COLLATE "C" DESC LIMIT 50`);
      return JSON.stringify(plan);
    });
    expect(text).not.toContain('"Node Type":"Sort"');
    expect(text).toContain("bets_player");
  });
});
