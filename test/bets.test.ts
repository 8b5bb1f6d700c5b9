import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BetAccepted, BetPage, BetView } from "../common/contracts/bet.ts";
import type { ErrorBody } from "../common/contracts/error.ts";
import type { Grid, GridCell } from "../common/contracts/grid.ts";
import type { Me } from "../common/contracts/session.ts";
import { authed, cellOf, getGrid, newSession, openCell, postBet } from "./support/api-client.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningApi, startApi } from "./support/service.ts";
import { startTickPump, type TickPump } from "./support/tick-pump.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const SECRET = "bets-test-secret-0123456789abcdef-xyz";

let redis: TestRedis;
let api: RunningApi;
let pump: TickPump;
let base: string;
let dir: string;
let dbPath: string;

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), "tap-bets-"));
  dbPath = join(dir, "bets.db");
  api = await startApi({
    REDIS_URL: redis.url,
    DB_PATH: dbPath,
    SESSION_SECRET: SECRET,
    STARTING_BALANCE: "50",
    MAX_OPEN_BETS: "5",
    SESSIONS_PER_IP_PER_MIN: "20",
  });
  base = api.base;
});

afterAll(async () => {
  await pump?.stop();
  await api?.stop("SIGKILL");
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function expectError(response: Response, status: number, code: string) {
  const body = (await response.json()) as { error: { code: string; message: string; details: { path: string; message: string }[] } };
  expect({ status: response.status, code: body.error.code }).toEqual({ status, code });
  return body.error;
}

function readDb<T>(run: (db: Database) => T): T {
  const db = new Database(dbPath, { readonly: true });
  try {
    return run(db);
  } finally {
    db.close();
  }
}

describe("before any price", () => {
  test("the grid is 503 and a bet cannot be priced", async () => {
    await expectError(await fetch(`${base}/api/grid`), 503, "unavailable");
  });
});

describe("sessions", () => {
  test("a guest session gets a token, an id and the starting balance", async () => {
    const session = await newSession(base);
    expect(session.user_id).toMatch(/^p_[0-9a-f]{32}$/);
    expect(session.balance).toBe(50);
    expect(session.expires_at).toBeGreaterThan(Date.now());
    const me = await fetch(`${base}/api/me`, { headers: authed(session.token) });
    expect(await me.json()).toEqual({ user_id: session.user_id, balance: 50, open_bets: 0, open_exposure: 0, potential_payout: 0, totals: { bets: 0, staked: 0, paid_out: 0, net: 0 } });
    const ledger = readDb((db) => db.query("SELECT kind, amount_cents FROM ledger WHERE player_id = ?").all(session.user_id));
    expect(ledger).toEqual([{ kind: "grant", amount_cents: 5000 }]);
  });

  test("player endpoints need a valid bearer token (401 otherwise)", async () => {
    const missing = await fetch(`${base}/api/me`);
    expect(missing.headers.get("www-authenticate")).toContain("Bearer");
    await expectError(missing, 401, "unauthorized");
    await expectError(await fetch(`${base}/api/me`, { headers: authed("nope.nope") }), 401, "unauthorized");
    const session = await newSession(base);
    const [payload] = session.token.split(".");
    await expectError(await fetch(`${base}/api/me`, { headers: authed(`${payload}.${"A".repeat(43)}`) }), 401, "unauthorized");
    await expectError(await fetch(`${base}/api/bets`, { headers: { authorization: "Basic abc" } }), 401, "unauthorized");
    await expectError(await postBet(base, undefined, { amount: 1, cell: {} }), 401, "unauthorized");
  });

  test("a token in another spelling of its signature's last character is 401", async () => {
    const session = await newSession(base);
    const [payload, signature] = session.token.split(".") as [string, string];
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const bytes = Buffer.from(signature, "base64url");
    const others = [...alphabet].map((c) => signature.slice(0, -1) + c).filter((s) => s !== signature && Buffer.from(s, "base64url").equals(bytes));
    expect(others).toHaveLength(3);
    for (const other of others) await expectError(await fetch(`${base}/api/me`, { headers: authed(`${payload}.${other}`) }), 401, "unauthorized");
    expect((await fetch(`${base}/api/me`, { headers: authed(session.token) })).status).toBe(200);
  });

  test("new sessions from one address are rate limited with Retry-After", async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 22; i++) {
      const response = await fetch(`${base}/api/session`, { method: "POST", headers: { "x-real-ip": "192.0.2.77" } });
      statuses.push(response.status);
      if (response.status === 429) retryAfter = response.headers.get("retry-after");
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.at(-1)).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });
});

describe("with a live price", () => {
  beforeAll(async () => {
    pump = await startTickPump(redis.url, 42_003.17);
    await waitFor("grid", async () => (await fetch(`${base}/api/grid`)).status === 200);
  });

  test("the grid has aligned columns and bands around the price, each with a multiplier", async () => {
    const grid = await getGrid(base);
    expect(grid.price).toBe(42_003.17);
    expect(grid.sigma).toBeGreaterThan(0);
    expect(grid.column_ms).toBe(5000);
    expect(grid.band).toBe(10);
    expect(grid.expires_at).toBeGreaterThan(grid.ts);
    expect(typeof grid.quote_id).toBe("string");
    for (const cell of grid.cells) {
      expect(cell.t_start % 5000).toBe(0);
      expect(cell.t_end - cell.t_start).toBe(5000);
      expect(Math.round(cell.price_low * 100) % 1000).toBe(0);
      expect(cell.price_high - cell.price_low).toBeCloseTo(10, 9);
      expect(cell.multiplier).toBeGreaterThanOrEqual(1.01);
      expect(cell.multiplier).toBeLessThanOrEqual(100);
      expect(cell.locked).toBe(cell.t_start - grid.ts < 2000);
    }
    expect(grid.cells.some((c) => c.price_low === 42_000)).toBe(true);
  });

  test("a bet is priced by the server, debits the stake and is stored with its multiplier", async () => {
    const session = await newSession(base);
    const grid = await getGrid(base);
    const cell = openCell(grid, (cells) => cells.find((c) => c.price_low === 42_030));
    const response = await postBet(base, session.token, { amount: 12.5, cell: cellOf(cell) });
    expect(response.status).toBe(202);
    const body = (await response.json()) as BetAccepted;
    expect(body.status).toBe("accepted");
    expect(body.balance).toBe(37.5);
    expect(Math.abs(body.multiplier - cell.multiplier) / cell.multiplier).toBeLessThan(0.2);
    expect(body.potential_payout).toBe(Math.floor((1250 * Math.round(body.multiplier * 100)) / 100) / 100);
    const row = readDb((db) => db.query("SELECT * FROM bets WHERE id = ?").get(body.bet_id)) as Record<string, unknown>;
    expect(row).toMatchObject({ player_id: session.user_id, stake_cents: 1250, multiplier_centi: Math.round(body.multiplier * 100), status: "open" });
    const me = (await (await fetch(`${base}/api/me`, { headers: authed(session.token) })).json()) as Me;
    expect(me).toMatchObject({ balance: 37.5, open_bets: 1, open_exposure: 12.5, potential_payout: body.potential_payout });
    expect(me.totals).toEqual({ bets: 1, staked: 12.5, paid_out: 0, net: -12.5 });
  });

  test("a body that still names user_id is refused, naming it", async () => {
    const session = await newSession(base);
    const cell = openCell(await getGrid(base));
    const error = await expectError(await postBet(base, session.token, { user_id: "someone", amount: 1, cell: cellOf(cell) }), 400, "validation_failed");
    expect(error.details.map((d) => d.path)).toContain("/user_id");
  });

  test("off-grid cells are 400, locked ones 409, bad stakes 400, stakes out of bounds 409", async () => {
    const session = await newSession(base);
    const grid = await getGrid(base);
    const cell = cellOf(openCell(grid));
    const bet = (body: unknown) => postBet(base, session.token, body);
    await expectError(await bet({ amount: 1, cell: { ...cell, price_low: cell.price_low + 5, price_high: cell.price_high + 5 } }), 400, "off_grid");
    await expectError(await bet({ amount: 1, cell: { ...cell, t_start: cell.t_start + 1000, t_end: cell.t_end + 1000 } }), 400, "off_grid");
    await expectError(await bet({ amount: 1, cell: { ...cell, t_start: cell.t_start + 3_600_000, t_end: cell.t_end + 3_600_000 } }), 400, "off_grid");
    await expectError(await bet({ amount: 1, cell: { ...cell, price_low: cell.price_low + 5000, price_high: cell.price_high + 5000 } }), 400, "off_grid");
    const current = Math.floor(Date.now() / 5000) * 5000;
    await expectError(await bet({ amount: 1, cell: { ...cell, t_start: current, t_end: current + 5000 } }), 409, "cell_locked");
    const error = await expectError(await bet({ amount: 1.005, cell }), 400, "validation_failed");
    expect(error.details.map((d) => d.path)).toEqual(["/amount"]);
    await expectError(await bet({ amount: -1, cell }), 400, "validation_failed");
    await expectError(await bet({ amount: 0.05, cell }), 409, "limit_exceeded");
    await expectError(await bet({ amount: 100.01, cell }), 409, "limit_exceeded");
    const me = (await (await fetch(`${base}/api/me`, { headers: authed(session.token) })).json()) as Me;
    expect(me.balance).toBe(50);
  });

  test("a stake with a third decimal is 400 on /amount however small the excess; two decimals are taken exactly", async () => {
    const session = await newSession(base);
    const cell = cellOf(openCell(await getGrid(base)));
    for (const amount of [99.999999999, 10.001, 0.009999999]) {
      const error = await expectError(await postBet(base, session.token, { amount, cell }), 400, "validation_failed");
      expect(error.details).toEqual([{ path: "/amount", message: "must have at most two decimal places" }]);
    }
    const accepted = await postBet(base, session.token, { amount: 10.01, cell });
    expect(accepted.status).toBe(202);
    expect(((await accepted.json()) as BetAccepted).balance).toBe(39.99);
  });

  test("a cell the grid shows as not offered (its expected return under MIN_RTP) is 409 not_offered and debits nothing; the grid says why", async () => {
    const session = await newSession(base);
    const grid = await getGrid(base);
    expect(grid.min_rtp).toBe(0.9);
    // Not offered for its return (others are not offered because their fair multiplier is above the cap, and say so).
    const far = grid.cells.find((c) => !c.offered && !c.locked && c.rtp < grid.min_rtp && c.t_start - Date.now() > 4000);
    if (!far) throw new Error("the grid shows no cell that is not offered for its return");
    // Every offered cell's figure lies between the floor and 1 − edge.
    for (const cell of grid.cells.filter((c) => c.offered)) {
      expect(cell.rtp).toBeGreaterThanOrEqual(0.9 - 1e-4);
      expect(cell.rtp).toBeLessThanOrEqual(1 - grid.house_edge);
    }
    const error = await expectError(await postBet(base, session.token, { amount: 5, cell: cellOf(far), min_multiplier: far.multiplier }), 409, "not_offered");
    expect(error.message).toMatch(/^this cell returns \d+(\.\d)?% on average, below the 90% a cell must return to be offered$/);
    const me = (await (await fetch(`${base}/api/me`, { headers: authed(session.token) })).json()) as Me;
    expect(me.balance).toBe(50);
    expect(me.totals.bets).toBe(0);
  });

  test("a stake beyond the balance is 409 insufficient_funds and debits nothing", async () => {
    const session = await newSession(base);
    const cell = cellOf(openCell(await getGrid(base)));
    expect((await postBet(base, session.token, { amount: 30, cell })).status).toBe(202);
    await expectError(await postBet(base, session.token, { amount: 30, cell }), 409, "insufficient_funds");
    const me = (await (await fetch(`${base}/api/me`, { headers: authed(session.token) })).json()) as Me;
    expect(me.balance).toBe(20);
  });

  test("open bets per player are limited (409 limit_exceeded)", async () => {
    const session = await newSession(base);
    const cell = cellOf(openCell(await getGrid(base)));
    for (let i = 0; i < 5; i++) expect((await postBet(base, session.token, { amount: 1, cell })).status).toBe(202);
    const error = await expectError(await postBet(base, session.token, { amount: 1, cell }), 409, "limit_exceeded");
    expect(error.details[0]).toMatchObject({ message: "max_open_bets" });
  });

  test("past 10 bets a second a player gets 429 with Retry-After", async () => {
    const session = await newSession(base);
    const cell = cellOf(openCell(await getGrid(base)));
    const responses = await Promise.all(Array.from({ length: 14 }, () => postBet(base, session.token, { amount: 1, cell })));
    const limited = responses.filter((r) => r.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(3);
    expect(Number(limited[0]!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await limited[0]!.json()) as unknown).toMatchObject({ error: { code: "rate_limited" } });
  });

  test("a retry with the same Idempotency-Key gets the first answer and is debited once, even at the same moment", async () => {
    const session = await newSession(base);
    const cell = cellOf(openCell(await getGrid(base)));
    const headers = { "idempotency-key": "retry-me-1" };
    const together = await Promise.all(Array.from({ length: 4 }, () => postBet(base, session.token, { amount: 2, cell }, headers)));
    const answers = (await Promise.all(together.map((r) => r.json()))) as BetAccepted[];
    expect(together.map((r) => r.status)).toEqual([202, 202, 202, 202]);
    expect(new Set(answers.map((a) => a.bet_id)).size).toBe(1);
    const later = (await (await postBet(base, session.token, { amount: 2, cell }, headers)).json()) as BetAccepted;
    expect(later).toEqual(answers[0]!);
    const stakes = readDb((db) => db.query("SELECT count(*) AS n FROM ledger WHERE player_id = ? AND kind = 'stake'").get(session.user_id));
    expect(stakes).toEqual({ n: 1 });
    await expectError(await postBet(base, session.token, { amount: 2, cell }, { "idempotency-key": "bad key!" }), 400, "validation_failed");
  });

  test("a player lists their own bets newest first, by page and status, and sees only their own", async () => {
    const alice = await newSession(base);
    const bob = await newSession(base);
    const cell = cellOf(openCell(await getGrid(base)));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(((await (await postBet(base, alice.token, { amount: 1, cell })).json()) as BetAccepted).bet_id);
    const bobBet = ((await (await postBet(base, bob.token, { amount: 1, cell })).json()) as BetAccepted).bet_id;

    const first = (await (await fetch(`${base}/api/bets?limit=2`, { headers: authed(alice.token) })).json()) as BetPage;
    expect(first.bets.map((b) => b.bet_id)).toEqual([ids[2]!, ids[1]!]);
    expect(first.next_before).toBe(ids[1]!);
    const second = (await (await fetch(`${base}/api/bets?limit=2&before=${first.next_before}`, { headers: authed(alice.token) })).json()) as BetPage;
    expect(second).toEqual({ bets: [expect.objectContaining({ bet_id: ids[0]! })], next_before: null });
    const open = (await (await fetch(`${base}/api/bets?status=open`, { headers: authed(alice.token) })).json()) as BetPage;
    expect(open.bets).toHaveLength(3);
    const won = (await (await fetch(`${base}/api/bets?status=won`, { headers: authed(alice.token) })).json()) as BetPage;
    expect(won.bets).toHaveLength(0);

    const one = (await (await fetch(`${base}/api/bets/${ids[0]}`, { headers: authed(alice.token) })).json()) as BetView;
    expect(one).toMatchObject({ bet_id: ids[0]!, status: "open", amount: 1, cell, payout: 0, settled_at: null });
    await expectError(await fetch(`${base}/api/bets/${bobBet}`, { headers: authed(alice.token) }), 404, "not_found");
    await expectError(await fetch(`${base}/api/bets/01a2-none`, { headers: authed(alice.token) }), 404, "not_found");
    await expectError(await fetch(`${base}/api/bets?limit=0`, { headers: authed(alice.token) }), 400, "validation_failed");
    await expectError(await fetch(`${base}/api/bets?limit=101`, { headers: authed(alice.token) }), 400, "validation_failed");
    await expectError(await fetch(`${base}/api/bets?status=maybe`, { headers: authed(alice.token) }), 400, "validation_failed");
  });

  test("a stale feed stops new bets with 503 rather than pricing from an old tick", async () => {
    const session = await newSession(base);
    const cell = cellOf(openCell(await getGrid(base), (cells) => cells.at(-1)));
    await pump.stop();
    try {
      await waitFor("stale grid", async () => (await fetch(`${base}/api/grid`)).status === 503, 10_000, 200);
      await expectError(await postBet(base, session.token, { amount: 1, cell }), 503, "unavailable");
    } finally {
      pump = await startTickPump(redis.url, 42_003.17);
    }
  });
});

describe("quotes that hold: min_multiplier and quote_id", () => {
  const PRICE = 42_003.17;

  /** Moves the price the pump publishes and waits until the API prices the grid from it. */
  async function movePrice(price: number) {
    await pump.publish(price);
    await waitFor(`a grid priced at ${price}`, async () => (await getGrid(base)).price === price, 10_000, 20);
  }

  /** A far cell above the price (at least `away` dollars), not capped, starting at least 8 s from now. */
  function farCellAbove(grid: Grid, away: number): GridCell {
    return openCell(grid, (cells) => cells.find((c) => c.price_low - grid.price >= away && c.multiplier >= 1.5 && c.multiplier <= 50));
  }

  async function balanceOf(token: string): Promise<number> {
    return ((await (await fetch(`${base}/api/me`, { headers: authed(token) })).json()) as Me).balance;
  }

  beforeAll(async () => {
    await movePrice(PRICE);
  });

  test("a quote that holds: the price moved away from the cell, the bet is accepted at the current, higher multiplier", async () => {
    const session = await newSession(base);
    const grid = await getGrid(base);
    const cell = farCellAbove(grid, 20);
    await movePrice(PRICE - 10);
    try {
      const response = await postBet(base, session.token, { amount: 2, cell: cellOf(cell), min_multiplier: cell.multiplier, quote_id: grid.quote_id });
      expect(response.status).toBe(202);
      const body = (await response.json()) as BetAccepted;
      expect(body.multiplier).toBeGreaterThan(cell.multiplier);
      expect(body.potential_payout).toBe(Math.floor(200 * Math.round(body.multiplier * 100) / 100) / 100);
      const row = readDb((db) => db.query("SELECT quote_id, min_multiplier_centi, multiplier_centi FROM bets WHERE id = ?").get(body.bet_id));
      expect(row).toEqual({ quote_id: grid.quote_id, min_multiplier_centi: Math.round(cell.multiplier * 100), multiplier_centi: Math.round(body.multiplier * 100) });
      const view = (await (await fetch(`${base}/api/bets/${body.bet_id}`, { headers: authed(session.token) })).json()) as BetView;
      expect(view).toMatchObject({ bet_id: body.bet_id, multiplier: body.multiplier, quote_id: grid.quote_id });
      // Without a quote the bet is placed as before, and shows quote_id null.
      const plain = (await (await postBet(base, session.token, { amount: 1, cell: cellOf(cell) })).json()) as BetAccepted;
      const page = (await (await fetch(`${base}/api/bets`, { headers: authed(session.token) })).json()) as BetPage;
      expect(page.bets.map((bet) => [bet.bet_id, bet.quote_id])).toEqual([
        [plain.bet_id, null],
        [body.bet_id, grid.quote_id],
      ]);
    } finally {
      await movePrice(PRICE);
    }
  });

  test("a quote that changed: 409 quote_changed with the current multiplier, nothing debited; one more tap at it is accepted", async () => {
    const session = await newSession(base);
    const grid = await getGrid(base);
    const cell = farCellAbove(grid, 30);
    // The price moves towards the cell (still two bands or more below it): the cell pays less now.
    await movePrice(PRICE + 10);
    try {
      const headers = { "idempotency-key": "quote-tap-1" };
      const refused = await postBet(base, session.token, { amount: 2, cell: cellOf(cell), min_multiplier: cell.multiplier, quote_id: grid.quote_id }, headers);
      expect(refused.status).toBe(409);
      const { error } = (await refused.json()) as ErrorBody;
      const current = error.current_multiplier!;
      expect(current).toBeLessThan(cell.multiplier);
      const message = `the multiplier is now ${current.toFixed(2)}×, below the ${cell.multiplier.toFixed(2)}× asked`;
      expect(error).toEqual({ code: "quote_changed", message, details: [{ path: "/min_multiplier", message }], request_id: refused.headers.get("x-request-id")!, current_multiplier: current });
      expect(await balanceOf(session.token)).toBe(50);
      expect(readDb((db) => db.query("SELECT count(*) AS n FROM bets WHERE player_id = ?").get(session.user_id))).toEqual({ n: 0 });
      // The player takes the multiplier shown, with the same key: the refusal did not use it up.
      const taken = await postBet(base, session.token, { amount: 2, cell: cellOf(cell), min_multiplier: current, quote_id: grid.quote_id }, headers);
      expect(taken.status).toBe(202);
      const body = (await taken.json()) as BetAccepted;
      expect(body.multiplier).toBeGreaterThanOrEqual(current);
      expect(body.balance).toBe(48);
      expect(readDb((db) => db.query("SELECT min_multiplier_centi, idempotency_key FROM bets WHERE id = ?").get(body.bet_id))).toEqual({
        min_multiplier_centi: Math.round(current * 100),
        idempotency_key: "quote-tap-1",
      });
    } finally {
      await movePrice(PRICE);
    }
  });

  test("a min_multiplier or quote_id outside the contract is 400 validation_failed naming it, and debits nothing", async () => {
    const session = await newSession(base);
    const grid = await getGrid(base);
    const cell = cellOf(farCellAbove(grid, 20));
    for (const [extra, path] of [
      [{ min_multiplier: 1 }, "/min_multiplier"],
      [{ min_multiplier: 0.5 }, "/min_multiplier"],
      [{ min_multiplier: 2.005 }, "/min_multiplier"],
      [{ min_multiplier: 100.01 }, "/min_multiplier"],
      [{ min_multiplier: 10_001 }, "/min_multiplier"],
      [{ min_multiplier: "2.5" }, "/min_multiplier"],
      [{ quote_id: "" }, "/quote_id"],
      [{ quote_id: "not a quote!" }, "/quote_id"],
      [{ quote_id: "q".repeat(65) }, "/quote_id"],
      [{ quote_id: 7 }, "/quote_id"],
    ] as const) {
      const error = await expectError(await postBet(base, session.token, { amount: 1, cell, ...extra }), 400, "validation_failed");
      expect({ extra, paths: error.details.map((d) => d.path) }).toEqual({ extra, paths: [path] });
    }
    expect(await balanceOf(session.token)).toBe(50);
  });
});
