/**
 * Is a PostgreSQL client right under load? For each candidate (Bun.sql and
 * postgres.js): many concurrent transactions over a pool smaller than the
 * concurrency, with prepared statements of different shapes interleaved on the
 * same connections (a statement cache or pipelining mix-up shows as a row of
 * the wrong shape or value), a transfer workload whose total must be conserved,
 * and transactions beyond the pool size next to plain queries that must all
 * finish (the pool stalls of oven-sh/bun#32004 and #33985).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createTempDatabase, DRIVER_NAMES, openDriver, postgresMissing, type Queryable, type Row, type TempDatabase } from "./support/postgres.ts";

setDefaultTimeout(30_000);

const missing = await postgresMissing();
// CI installs PostgreSQL (scripts/setup.sh): there a missing server is a failure, not a skip.
if (missing && !process.env.CI) console.warn(`test/pg-client-torture.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

const ACCOUNTS = 40;
const OPENING_CENTS = 10_000;
// PG_TORTURE_SCALE=20 runs twenty times the operations (by hand, to hunt rare mix-ups).
const SCALE = Number(process.env.PG_TORTURE_SCALE ?? 1);
const WORKERS = 64;
const OPS_PER_WORKER = 40 * SCALE;
const POOL = 4;

/** A small seeded generator, so every run asks the same questions. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rejects when `promise` has not settled in `ms`: a hung pool fails the test instead of the runner's timeout. */
function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms (a pool stall)`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** One statement shape: its SQL, parameters drawn from `rng`, and the exact rows it must return. */
interface Shape {
  sql: string;
  draw(rng: () => number): { params: unknown[]; expected: Row[] };
}

const int = (rng: () => number, below: number) => Math.floor(rng() * below);

// Shapes that differ in result columns but share parameter types (A and F), in
// parameter count, and in row count: any cross-wiring between them is visible.
const SHAPES: readonly Shape[] = [
  {
    sql: "SELECT $1::int AS a_int, $2::text AS a_text",
    draw: (rng) => {
      const n = int(rng, 1_000_000);
      return { params: [n, `a${n}`], expected: [{ a_int: n, a_text: `a${n}` }] };
    },
  },
  {
    sql: "SELECT $2::text AS f_text, $1::int AS f_int, 'f' AS f_tag",
    draw: (rng) => {
      const n = int(rng, 1_000_000);
      return { params: [n, `f${n}`], expected: [{ f_text: `f${n}`, f_int: n, f_tag: "f" }] };
    },
  },
  {
    sql: "SELECT $1::text AS b_label, $2::bool AS b_flag, $3::int * 2 AS b_double",
    draw: (rng) => {
      const n = int(rng, 1_000_000);
      const flag = rng() < 0.5;
      return { params: [`b${n}`, flag, n], expected: [{ b_label: `b${n}`, b_flag: flag, b_double: n * 2 }] };
    },
  },
  {
    sql: "SELECT g AS d_i, g * $1::int AS d_m FROM generate_series(1, $2::int) AS g ORDER BY g",
    draw: (rng) => {
      const k = 1 + int(rng, 1000);
      const rows = 1 + int(rng, 12);
      return { params: [k, rows], expected: Array.from({ length: rows }, (_, i) => ({ d_i: i + 1, d_m: (i + 1) * k })) };
    },
  },
  {
    sql: "SELECT $1::int + $2::int + $3::int + $4::int AS e_sum",
    draw: (rng) => {
      const values = [int(rng, 1000), int(rng, 1000), int(rng, 1000), int(rng, 1000)];
      return { params: values, expected: [{ e_sum: values.reduce((a, b) => a + b, 0) }] };
    },
  },
  {
    sql: "SELECT id AS c_id FROM accounts WHERE id = $1::int",
    draw: (rng) => {
      const id = 1 + int(rng, ACCOUNTS);
      return { params: [id], expected: [{ c_id: id }] };
    },
  },
];

/** Runs a shape drawn from `rng` on `client` and checks every row and column of its answer. */
async function askShape(client: Queryable, rng: () => number): Promise<void> {
  const shape = SHAPES[int(rng, SHAPES.length)]!;
  const { params, expected } = shape.draw(rng);
  const rows = await client.query(shape.sql, params);
  expect({ sql: shape.sql, rows }).toEqual({ sql: shape.sql, rows: expected });
}

/** What the workload committed, counted by the caller: must match the database exactly. */
interface Committed {
  transfers: number;
  rolledBack: number;
}

/**
 * Moves `amount` from one account to another in a transaction, locking both in
 * id order, with shape queries pipelined next to the writes on the same
 * connection; checks every balance the database returns. With `abandon`, the
 * transfer runs in a savepoint that is then rolled back.
 */
async function transfer(driver: ReturnType<typeof openDriver>, rng: () => number, committed: Committed, abandon: boolean): Promise<void> {
  const from = 1 + int(rng, ACCOUNTS);
  const to = 1 + ((from + int(rng, ACCOUNTS - 1)) % ACCOUNTS);
  const amount = 1 + int(rng, 3000);
  const shapeSeed = int(rng, 2 ** 31);
  await driver.transaction(async (tx) => {
    const shapeRng = seeded(shapeSeed);
    const [locked] = await Promise.all([
      tx.query("SELECT id, balance FROM accounts WHERE id IN ($1::int, $2::int) ORDER BY id FOR UPDATE", [from, to]),
      askShape(tx, shapeRng),
    ]);
    expect(locked.map((row) => Object.keys(row))).toEqual([["id", "balance"], ["id", "balance"]]);
    expect(locked.map((row) => row.id)).toEqual([Math.min(from, to), Math.max(from, to)]);
    const balanceOf = (id: number) => Number(locked.find((row) => row.id === id)!.balance);
    if (balanceOf(from) < amount) return;
    const move = async (client: Queryable) => {
      const [debited, credited, logged] = await Promise.all([
        client.query("UPDATE accounts SET balance = balance - $2::bigint WHERE id = $1::int RETURNING balance", [from, amount]),
        client.query("UPDATE accounts SET balance = balance + $2::bigint WHERE id = $1::int RETURNING balance", [to, amount]),
        client.query("INSERT INTO transfers (from_id, to_id, amount) VALUES ($1::int, $2::int, $3::bigint) RETURNING from_id, to_id, amount", [from, to, amount]),
        askShape(client, shapeRng),
      ]);
      expect(debited.map((row) => Number(row.balance))).toEqual([balanceOf(from) - amount]);
      expect(credited.map((row) => Number(row.balance))).toEqual([balanceOf(to) + amount]);
      expect(logged.map((row) => [row.from_id, row.to_id, Number(row.amount)])).toEqual([[from, to, amount]]);
    };
    if (!abandon) {
      await move(tx);
      committed.transfers++;
      return;
    }
    const abandoned = new Error("abandoned on purpose");
    const outcome = await tx.savepoint(async (sp) => {
      await move(sp);
      throw abandoned;
    }).catch((error: unknown) => error);
    expect(outcome).toBe(abandoned);
    committed.rolledBack++;
  });
}

describe.skipIf(!run).each(DRIVER_NAMES)("%s under concurrent load", (driverName) => {
  let database: TempDatabase;

  beforeAll(async () => {
    if (missing) throw new Error(`CI must have PostgreSQL: ${missing}`);
    database = await createTempDatabase("tap_test");
    const setup = openDriver(driverName, database.url, 1);
    try {
      await setup.query("CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL CHECK (balance >= 0))");
      await setup.query("CREATE TABLE transfers (id BIGSERIAL PRIMARY KEY, from_id INT NOT NULL, to_id INT NOT NULL, amount BIGINT NOT NULL)");
      await setup.query("CREATE TABLE pings (id BIGSERIAL PRIMARY KEY, n INT NOT NULL)");
      await setup.query("INSERT INTO accounts SELECT g, $1::bigint FROM generate_series(1, $2::int) AS g", [OPENING_CENTS, ACCOUNTS]);
    } finally {
      await setup.close();
    }
  });

  afterAll(async () => {
    await database?.drop();
  });

  test("interleaved prepared statements of different shapes always get their own rows, and transfers conserve the total exactly", async () => {
    const driver = openDriver(driverName, database.url, POOL);
    const committed: Committed = { transfers: 0, rolledBack: 0 };
    try {
      const worker = async (index: number) => {
        const rng = seeded(1000 + index);
        for (let op = 0; op < OPS_PER_WORKER; op++) {
          const roll = rng();
          if (roll < 0.4) await transfer(driver, rng, committed, false);
          else if (roll < 0.5) await transfer(driver, rng, committed, true);
          else await Promise.all([askShape(driver, rng), askShape(driver, rng), askShape(driver, rng)]);
        }
      };
      await withDeadline(Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i))), 20_000 * SCALE, "the workload");

      const [total] = await driver.query("SELECT sum(balance)::bigint AS total, count(*)::int AS accounts FROM accounts");
      expect({ total: Number(total!.total), accounts: total!.accounts }).toEqual({ total: ACCOUNTS * OPENING_CENTS, accounts: ACCOUNTS });
      const [logged] = await driver.query("SELECT count(*)::int AS n FROM transfers");
      expect(logged!.n).toBe(committed.transfers);
      expect(committed.transfers).toBeGreaterThan(0);
      expect(committed.rolledBack).toBeGreaterThan(0);
      // Every balance is its opening plus what the committed transfers moved, and nothing else.
      const drift = await driver.query(
        `SELECT a.id FROM accounts a
           LEFT JOIN (SELECT to_id AS id, sum(amount) AS cents FROM transfers GROUP BY to_id) i ON i.id = a.id
           LEFT JOIN (SELECT from_id AS id, sum(amount) AS cents FROM transfers GROUP BY from_id) o ON o.id = a.id
          WHERE a.balance <> $1::bigint + coalesce(i.cents, 0) - coalesce(o.cents, 0)`,
        [OPENING_CENTS],
      );
      expect(drift).toEqual([]);
    } finally {
      await driver.close();
    }
  });

  test("on one connection, a prepared statement queued behind a new one gets its own rows (the burst of oven-sh/bun#33627)", async () => {
    const driver = openDriver(driverName, database.url, 1);
    try {
      for (let round = 0; round < 50; round++) {
        await driver.query("SELECT $1::text AS v", [`warm${round}`]);
        const fresh = `SELECT $1::text AS v, $2::int AS w, ${round} AS round`;
        const answers = await withDeadline(
          Promise.all([
            driver.query("SELECT $1::text AS v", ["A"]),
            driver.query(fresh, ["B", round]),
            driver.query("SELECT $1::text AS v", ["C"]),
          ]),
          5_000,
          "a three-query burst on one connection",
        );
        expect(answers).toEqual([[{ v: "A" }], [{ v: "B", w: round, round }], [{ v: "C" }]]);
      }
    } finally {
      await driver.close();
    }
  });

  test("transactions and savepoints beyond the pool size, next to plain prepared reads and writes, all finish and the pool drains", async () => {
    const driver = openDriver(driverName, database.url, 2);
    const rng = seeded(7);
    const callers = 64;
    try {
      const work = Array.from({ length: callers }, async (_, i) => {
        const n = int(rng, 1_000_000);
        if (i % 3 === 0) {
          return driver.transaction(async (tx) => {
            const [row] = await tx.query("INSERT INTO pings (n) VALUES ($1::int) RETURNING n", [n]);
            const inner = await tx.savepoint(async (sp) => sp.query("SELECT $1::int + 1 AS next", [n]));
            return [row?.n, inner[0]?.next];
          });
        }
        if (i % 3 === 1) return (await driver.query("INSERT INTO pings (n) VALUES ($1::int) RETURNING n", [n])).map((row) => row.n);
        return (await driver.query("SELECT n FROM pings WHERE n = $1::int LIMIT 1", [n])).map((row) => row.n);
      });
      const results = await withDeadline(Promise.allSettled(work), 15_000, `${callers} callers on a pool of 2`);
      expect(results.filter((result) => result.status === "rejected")).toEqual([]);
      const inTransactions = results.filter((_, i) => i % 3 === 0).map((result) => (result as PromiseFulfilledResult<unknown>).value as [number, number]);
      for (const [n, next] of inTransactions) expect(next).toBe(n + 1);
    } finally {
      await withDeadline(driver.close(), 5_000, "closing the drained pool");
    }
  });
});
