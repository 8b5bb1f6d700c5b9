import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BetAccepted } from "../common/contracts/bet.ts";
import type { Grid, GridCell } from "../common/contracts/grid.ts";
import type { Me } from "../common/contracts/session.ts";
import { authed, cellOf, getGrid, newSession, postBet } from "./support/api-client.ts";
import { auditMoney } from "./support/money-audit.ts";
import { freePort } from "./support/ports.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningApi, type RunningService, spawnService, startApi, waitForHttp } from "./support/service.ts";
import { startTickPump, type TickPump } from "./support/tick-pump.ts";
import { waitFor } from "./support/wait.ts";
import { connectClient } from "../ws/_test-client.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

let redis: TestRedis;
let pump: TickPump;
let api: RunningApi;
let base: string;
let dir: string;
let dbPath: string;

/** One-second columns and short staleness, so windows open and close within the test. */
// A lively volatility, so the bands this test bets on (up to $100 away, seconds ahead) return enough to be offered (MIN_RTP).
const ENV = { COLUMN_MS: "1000", LOCK_MS: "500", STALE_MS: "1000", SETTLE_GRACE_MS: "500", SIGMA_FLOOR: "0.001" };

beforeAll(async () => {
  redis = await startRedis();
  pump = await startTickPump(redis.url, 42_000, 100);
  dir = mkdtempSync(join(tmpdir(), "tap-settle-"));
  dbPath = join(dir, "bets.db");
  api = await startApi({ REDIS_URL: redis.url, DB_PATH: dbPath, ...ENV }, { grid: true });
  base = api.base;
});

afterAll(async () => {
  await pump?.stop();
  await api?.stop("SIGKILL");
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function cellAt(grid: Grid, tStart: number, low: number): GridCell {
  const cell = grid.cells.find((c) => c.t_start === tStart && c.price_low === low && c.offered);
  if (!cell) throw new Error(`no offered cell at ${tStart} / ${low}`);
  return cell;
}

const untilTime = async (at: number) => {
  const wait = at - Date.now();
  if (wait > 0) await Bun.sleep(wait);
};

function statusOf(id: string): { status: string; payout_cents: number } {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.query("SELECT status, payout_cents FROM bets WHERE id = ?").get(id) as { status: string; payout_cents: number };
  } finally {
    db.close();
  }
}

describe("settlement against real ticks", () => {
  test("a touch wins and pays, a straddle wins, an untouched window loses, an unobserved window is void and refunded", async () => {
    const player = await newSession(base);
    const grid = await getGrid(base);
    const first = grid.cells.map((c) => c.t_start).filter((t) => t - Date.now() >= 2500).sort((a, b) => a - b)[0]!;
    const w1 = first;
    const w2 = first + 1000;
    const w3 = first + 3000;
    const place = async (cell: GridCell) => {
      const response = await postBet(base, player.token, { amount: 1, cell: cellOf(cell) });
      expect(response.status).toBe(202);
      return (await response.json()) as BetAccepted;
    };
    const touched = await place(cellAt(grid, w1, 42_030));
    const untouched = await place(cellAt(grid, w1, 41_950));
    const straddled = await place(cellAt(grid, w2, 42_070));
    const unobserved = await place(cellAt(grid, w3, 42_100));
    const balanceAfterStakes = unobserved.balance;
    expect(balanceAfterStakes).toBe(996);

    // Window 1: the price moves into 42,030–42,040.
    await untilTime(w1 + 150);
    await pump.publish(42_035);
    // Window 2: two ticks inside it jump over 42,070–42,080.
    await untilTime(w2 + 150);
    await pump.publish(42_060);
    await untilTime(w2 + 450);
    await pump.publish(42_090);
    // Window 3: the feed stops before it opens and stays away past its grace.
    await untilTime(w3 - 1200);
    await pump.stop();

    await waitFor("the touched bet won", () => statusOf(touched.bet_id).status === "won", 10_000);
    expect(statusOf(touched.bet_id).payout_cents).toBe(Math.round(touched.multiplier * 100));
    await waitFor("the straddled bet won", () => statusOf(straddled.bet_id).status === "won", 10_000);
    await waitFor("the untouched bet lost", () => statusOf(untouched.bet_id).status === "lost", 10_000);
    await waitFor("the unobserved bet void", () => statusOf(unobserved.bet_id).status === "void", 10_000);
    expect(statusOf(untouched.bet_id).payout_cents).toBe(0);

    const me = (await (await fetch(`${base}/api/me`, { headers: authed(player.token) })).json()) as Me;
    const expected = balanceAfterStakes + Math.round(touched.multiplier * 100) / 100 + Math.round(straddled.multiplier * 100) / 100 + 1;
    expect(me.balance).toBeCloseTo(expected, 2);
    expect(me.open_bets).toBe(0);
    const audit = auditMoney(dbPath);
    expect(audit).toMatchObject({ unbalanced: [], betsWithoutStake: [], stakesWithoutBet: 0 });
    pump = await startTickPump(redis.url, 42_000, 100);

    // The audit settles the same range again from the stored ticks and finds no difference...
    const replay = (db: string) =>
      Bun.spawnSync([process.execPath, "api/replay.ts", "--db", db, "--from", String(w1), "--to", String(w3 + 1000), "--scratch", join(dir, "scratch.db")], {
        cwd: join(import.meta.dir, ".."),
        env: { PATH: process.env.PATH ?? "", REDIS_URL: redis.url, STALE_MS: ENV.STALE_MS, SETTLE_GRACE_MS: ENV.SETTLE_GRACE_MS },
      });
    const clean = replay(dbPath);
    const report = JSON.parse(clean.stdout.toString()) as { bets: number; differences: unknown[] };
    expect({ exit: clean.exitCode, bets: report.bets, differences: report.differences }).toEqual({ exit: 0, bets: 4, differences: [] });
    // ...and reports one that was recorded wrongly.
    const tampered = join(dir, "tampered.db");
    const copy = new Database(dbPath, { readonly: true });
    copy.run("VACUUM INTO ?", [tampered]);
    copy.close();
    const edit = new Database(tampered);
    edit.run("UPDATE bets SET status = 'lost', payout_cents = 0 WHERE id = ?", [straddled.bet_id]);
    edit.close();
    const caught = replay(tampered);
    expect(caught.exitCode).toBe(1);
    expect((JSON.parse(caught.stdout.toString()) as { differences: unknown[] }).differences).toEqual([
      { bet_id: straddled.bet_id, recorded: { status: "lost", payout_cents: 0 }, replayed: { status: "won", payout_cents: Math.round(straddled.multiplier * 100) } },
    ]);
  }, 30_000);
});

describe("live results over websockets", () => {
  test("each player's events reach their own sockets on whichever ws process they use, and no one else's", async () => {
    const wsA = spawnService("ws", { PORT: String(await freePort()), REDIS_URL: redis.url });
    const wsB = spawnService("ws", { PORT: String(await freePort()), REDIS_URL: redis.url });
    const urlOf = async (service: RunningService) => {
      const line = await service.waitForLog("listening", (l) => l.msg === "listening");
      await waitForHttp(`http://127.0.0.1:${line.port}/healthz`);
      return `ws://127.0.0.1:${line.port}/ws`;
    };
    try {
      const [urlA, urlB] = [await urlOf(wsA), await urlOf(wsB)];
      const alice = await newSession(base);
      const bob = await newSession(base);
      await using aliceOnA = await connectClient(urlA);
      await using aliceOnB = await connectClient(urlB);
      await using bobOnB = await connectClient(urlB);
      for (const [client, session] of [
        [aliceOnA, alice],
        [aliceOnB, alice],
        [bobOnB, bob],
      ] as const) {
        client.ws.send(JSON.stringify({ type: "auth", token: session.token }));
        expect(await client.next("authed", (m) => m.type === "authed")).toMatchObject({ user_id: session.user_id });
      }

      const grid = await getGrid(base);
      const start = grid.cells.map((c) => c.t_start).filter((t) => t - Date.now() >= 2500).sort((a, b) => a - b)[0]!;
      const cell = cellAt(grid, start, 42_030);
      const placed = (await (await postBet(base, alice.token, { amount: 2, cell: cellOf(cell) })).json()) as BetAccepted;
      for (const client of [aliceOnA, aliceOnB]) {
        expect(await client.next("accepted", (m) => m.type === "bet" && m.status === "accepted")).toEqual({
          type: "bet",
          bet_id: placed.bet_id,
          status: "accepted",
          payout: 0,
          balance: placed.balance,
        });
      }
      await untilTime(start + 150);
      await pump.publish(42_035);
      const won = await aliceOnA.next("won", (m) => m.type === "bet" && m.status === "won", 0, 10_000);
      const payout = Math.floor((200 * Math.round(placed.multiplier * 100)) / 100) / 100;
      expect(won).toEqual({ type: "bet", bet_id: placed.bet_id, status: "won", payout, balance: Math.round((placed.balance + payout) * 100) / 100 });
      await aliceOnB.next("won on the other process too", (m) => m.type === "bet" && m.status === "won");
      await pump.publish(42_000);
      expect(bobOnB.json().filter((m) => m.type === "bet")).toEqual([]);

      await using intruder = await connectClient(urlA);
      intruder.ws.send(JSON.stringify({ type: "auth", token: `${alice.token.slice(0, -2)}xx` }));
      expect(await intruder.next("error", (m) => m.type === "error")).toMatchObject({ code: "unauthorized" });
      expect((await intruder.closed).code).toBe(4001);
    } finally {
      await wsA.stop("SIGKILL");
      await wsB.stop("SIGKILL");
    }
  }, 30_000);
});

describe("crash safety", () => {
  test("kill -9 while settling a large batch: after a restart every bet is settled exactly once and every ledger balances", async () => {
    const crashDb = join(dir, "crash.db");
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = {
      PORT: String(port),
      REDIS_URL: redis.url,
      DB_PATH: crashDb,
      ...ENV,
      STALE_MS: "3000",
      MAX_OPEN_BETS: "100000",
      BETS_PER_PLAYER_PER_S: "100000",
      MAX_CELL_LIABILITY: "100000000",
      MAX_HOUSE_LIABILITY: "100000000",
      SESSIONS_PER_IP_PER_MIN: "100000",
      LOG_LEVEL: "warn",
    };
    let crashing = spawnService("api", env);
    await waitForHttp(`${url}/healthz`);
    await waitFor("a priced grid", async () => (await fetch(`${url}/api/grid`)).status === 200);
    const players = await Promise.all(Array.from({ length: 20 }, () => newSession(url)));
    const grid = await getGrid(url);
    const start = grid.cells.map((c) => c.t_start).filter((t) => t - Date.now() >= 3000).sort((a, b) => a - b)[0]!;
    const winning = cellOf(cellAt(grid, start, 42_030));
    const losing = cellOf(cellAt(grid, start, 41_950));
    const ids: string[] = [];
    await Promise.all(
      players.map(async (player, p) => {
        for (let i = 0; i < 60; i++) {
          const response = await postBet(url, player.token, { amount: 1, cell: i % 4 === 0 ? losing : winning });
          expect(response.status).toBe(202);
          ids.push(((await response.json()) as BetAccepted).bet_id);
        }
        return p;
      }),
    );
    expect(ids).toHaveLength(1200);

    await untilTime(start + 150);
    await pump.publish(42_035);
    // The touch decides 900 bets in one transaction: kill the API while it settles them.
    await Bun.sleep(5);
    crashing.proc.kill("SIGKILL");
    await crashing.proc.exited;
    await untilTime(start + 1500);

    crashing = spawnService("api", env);
    try {
      await waitForHttp(`${url}/healthz`);
      const settledCount = () => {
        const db = new Database(crashDb, { readonly: true });
        try {
          return db.query("SELECT status, count(*) AS n FROM bets GROUP BY status ORDER BY status").all();
        } finally {
          db.close();
        }
      };
      await waitFor("every bet settled after the restart", () => JSON.stringify(settledCount()) === JSON.stringify([{ status: "lost", n: 300 }, { status: "won", n: 900 }]), 15_000, 100);
      const db = new Database(crashDb, { readonly: true });
      const credits = db.query("SELECT count(*) AS n, count(DISTINCT bet_id) AS bets FROM ledger WHERE kind = 'payout'").get();
      db.close();
      expect(credits).toEqual({ n: 900, bets: 900 });
      expect(auditMoney(crashDb)).toMatchObject({ players: 20, bets: 1200, unbalanced: [], betsWithoutStake: [], stakesWithoutBet: 0 });
    } finally {
      await crashing.stop("SIGKILL");
    }
  }, 60_000);
});
