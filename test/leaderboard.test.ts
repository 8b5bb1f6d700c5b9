import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BetAccepted } from "../common/contracts/bet.ts";
import type { ErrorBody } from "../common/contracts/error.ts";
import type { Grid, GridCell } from "../common/contracts/grid.ts";
import type { Leaderboard } from "../common/contracts/leaderboard.ts";
import type { SessionCreated } from "../common/contracts/session.ts";
import { authed, cellOf, getGrid, newSession, postBet } from "./support/api-client.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningApi, startApi } from "./support/service.ts";
import { startTickPump, type TickPump } from "./support/tick-pump.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

let redis: TestRedis;
let pump: TickPump;
let api: RunningApi;
let base: string;
let dir: string;
let dbPath: string;

/** One-second columns and short staleness, so windows open and close within the test (as test/settlement.test.ts). */
const ENV = { COLUMN_MS: "1000", LOCK_MS: "500", STALE_MS: "1000", SETTLE_GRACE_MS: "500", SIGMA_FLOOR: "0.0002" };

beforeAll(async () => {
  redis = await startRedis();
  pump = await startTickPump(redis.url, 42_000, 100);
  dir = mkdtempSync(join(tmpdir(), "tap-leaderboard-"));
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

const putNickname = (token: string | undefined, nickname: unknown) =>
  fetch(`${base}/api/players/me/nickname`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...(token ? authed(token) : {}) },
    body: JSON.stringify({ nickname }),
  });

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as ErrorBody).error.code;
}

async function leaderboard(): Promise<Leaderboard> {
  const response = await fetch(`${base}/api/leaderboard`);
  expect(response.status).toBe(200);
  return (await response.json()) as Leaderboard;
}

function unsettled(): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.query("SELECT count(*) AS n FROM bets WHERE status = 'open'").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("nicknames", () => {
  test("a player sets one within the rules; another player cannot take it in any case", async () => {
    const alice = await newSession(base);
    const bob = await newSession(base);
    const none = await fetch(`${base}/api/players/me/nickname`, { headers: authed(alice.token) });
    expect(await none.json()).toEqual({ nickname: null });

    for (const bad of ["ab", "x".repeat(21), " alice", "alice ", "al<i>ce", "zoë", 7, ""]) {
      const response = await putNickname(alice.token, bad);
      expect(response.status).toBe(400);
      expect(await errorCode(response)).toBe("validation_failed");
    }
    const set = await putNickname(alice.token, "Alice W");
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ nickname: "Alice W" });
    expect(await (await fetch(`${base}/api/players/me/nickname`, { headers: authed(alice.token) })).json()).toEqual({ nickname: "Alice W" });

    const taken = await putNickname(bob.token, "alice w");
    expect(taken.status).toBe(409);
    expect(await errorCode(taken)).toBe("nickname_taken");
    // Her own name in another case is hers to take.
    expect((await putNickname(alice.token, "ALICE W")).status).toBe(200);

    // The page on another allowed origin may PUT it too.
    const preflight = await fetch(`${base}/api/players/me/nickname`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost", "access-control-request-method": "PUT", "access-control-request-headers": "authorization, content-type" },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get("access-control-allow-methods")).toContain("PUT");

    const anonymous = await putNickname(undefined, "mallory");
    expect(anonymous.status).toBe(401);
    expect(await errorCode(anonymous)).toBe("unauthorized");
  });
});

describe("the day's leaderboard", () => {
  test("after bets settle: each nickname's net, best first, at most 20, players without a nickname absent", async () => {
    const grid: Grid = await getGrid(base);
    // A window far enough ahead to place every bet before it locks.
    const window = grid.cells.map((c) => c.t_start).filter((t) => t - Date.now() >= 2500).sort((a, b) => a - b)[0]!;
    const cells = grid.cells.filter((c) => c.t_start === window);
    const touched = cells.find((c) => c.price_low === 42_030);
    if (!touched) throw new Error("no cell at 42,030 in the window");
    // Bands the price never comes near: those bets lose. Well below the cap: a far band's multiplier climbs as its
    // window nears, and one that passes MAX_MULTIPLIER between the grid and the bet is no longer offered.
    const far = cells.filter((c: GridCell) => c.offered && c.multiplier < 40 && (c.price_low >= 42_060 || c.price_high <= 41_970));
    expect(far.length).toBeGreaterThan(0);

    const named = async (nickname: string | undefined): Promise<SessionCreated> => {
      const player = await newSession(base);
      if (nickname !== undefined) expect((await putNickname(player.token, nickname)).status).toBe(200);
      return player;
    };
    const bet = async (player: SessionCreated, cell: GridCell, amount: number): Promise<BetAccepted> => {
      const response = await postBet(base, player.token, { amount, cell: cellOf(cell) });
      expect(response.status).toBe(202);
      return (await response.json()) as BetAccepted;
    };

    const winner = await named("winner");
    const winning = await bet(winner, touched, 1);
    const anonymous = await named(undefined);
    await bet(anonymous, touched, 5);
    // 22 losers: loser 1 stakes 1.10, loser 2 1.20, ...: only the 19 smallest losses make the top 20.
    const losers = await Promise.all(Array.from({ length: 22 }, (_, i) => named(`loser ${String(i + 1).padStart(2, "0")}`)));
    await Promise.all(losers.map((player, i) => bet(player, far[i % far.length]!, 1 + (i + 1) / 10)));

    // Inside the window the price moves into 42,030–42,040.
    const wait = window + 150 - Date.now();
    if (wait > 0) await Bun.sleep(wait);
    await pump.publish(42_035);
    await waitFor("every bet settled", () => unsettled() === 0, 15_000);

    // Settled bets show within the leaderboard's one-second cache.
    const board = await waitFor("the leaderboard lists the settled bets", async () => {
      const read = await leaderboard();
      return read.entries.length === 20 ? read : undefined;
    });
    // docs/rules.md: stake × multiplier in cents, rounded down (in integers: 16.49 × 100 is 1648.999… in floats).
    const payout = Math.floor((100 * Math.round(winning.multiplier * 100)) / 100) / 100;
    expect(board.day).toBe(new Date().toISOString().slice(0, 10));
    expect(board.entries[0]).toEqual({ rank: 1, nickname: "winner", net: Math.round((payout - 1) * 100) / 100 });
    expect(board.entries.slice(1)).toEqual(
      Array.from({ length: 19 }, (_, i) => ({ rank: i + 2, nickname: `loser ${String(i + 1).padStart(2, "0")}`, net: -Math.round((1 + (i + 1) / 10) * 100) / 100 })),
    );
    // The anonymous player won more than anyone, and is not listed; nor is the nicknamed player without bets.
    expect(board.entries.map((e) => e.nickname)).not.toContain("Alice W");
  });
});
