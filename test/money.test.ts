import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BetAccepted } from "../common/contracts/bet.ts";
import type { GridCell } from "../common/contracts/grid.ts";
import type { Me, SessionCreated } from "../common/contracts/session.ts";
import { authed, cellOf, getGrid, newSession, postBet } from "./support/api-client.ts";
import { auditMoney } from "./support/money-audit.ts";
import { freePort } from "./support/ports.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningService, spawnService, waitForHttp } from "./support/service.ts";
import { startTickPump, type TickPump } from "./support/tick-pump.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const SECRET = "money-test-secret-0123456789abcdef-xyz";

let redis: TestRedis;
let pump: TickPump;
let dir: string;

beforeAll(async () => {
  redis = await startRedis();
  pump = await startTickPump(redis.url, 42_000);
  dir = mkdtempSync(join(tmpdir(), "tap-money-"));
});

afterAll(async () => {
  await pump?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function startApi(dbPath: string, port: number): Promise<RunningService> {
  const api = spawnService("api", {
    PORT: String(port),
    REDIS_URL: redis.url,
    DB_PATH: dbPath,
    SESSION_SECRET: SECRET,
    STARTING_BALANCE: "100",
    MAX_OPEN_BETS: "100000",
    BETS_PER_PLAYER_PER_S: "100000",
    SESSIONS_PER_IP_PER_MIN: "100000",
    LOG_LEVEL: "warn",
  });
  await waitForHttp(`http://127.0.0.1:${port}/healthz`);
  await waitFor("a priced grid", async () => (await fetch(`http://127.0.0.1:${port}/api/grid`)).status === 200);
  return api;
}

/** A seeded generator so a failing run can be repeated. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

describe("money", () => {
  test("after thousands of random concurrent operations every balance equals its ledger and none is negative", async () => {
    const dbPath = join(dir, "random.db");
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const api = await startApi(dbPath, port);
    try {
      const seed = Number(process.env.MONEY_SEED ?? Date.now() % 100_000);
      const rand = random(seed);
      const players: SessionCreated[] = await Promise.all(Array.from({ length: 30 }, () => newSession(base)));
      const cells = (await getGrid(base)).cells.filter((c) => !c.locked && c.offered && c.multiplier < 100 && c.t_start - Date.now() > 15_000);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
      const accepted = new Map<string, { player: string; amount: number }>();
      const statuses = new Map<number, number>();

      const operation = async () => {
        const player = pick(players);
        const roll = rand();
        if (roll < 0.1) {
          const me = (await (await fetch(`${base}/api/me`, { headers: authed(player.token) })).json()) as Me;
          expect(me.balance).toBeGreaterThanOrEqual(0);
          return;
        }
        const cell: GridCell = pick(cells);
        const amount = roll < 0.15 ? 1.005 : roll < 0.2 ? 500 : Math.round((0.1 + rand() * 4.9) * 100) / 100;
        const headers: Record<string, string> = roll < 0.4 ? { "idempotency-key": `k${Math.floor(rand() * 40)}` } : {};
        const response = await postBet(base, player.token, { amount, cell: cellOf(cell) }, headers);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status === 202) {
          const body = (await response.json()) as BetAccepted;
          accepted.set(body.bet_id, { player: player.user_id, amount });
        } else {
          await response.body?.cancel();
        }
      };
      // 3,000 operations, 64 at a time.
      for (let wave = 0; wave < 3000 / 64; wave++) await Promise.all(Array.from({ length: 64 }, operation));

      expect([...statuses.keys()].every((s) => [202, 400, 409].includes(s))).toBe(true);
      expect(statuses.get(202)).toBeGreaterThan(500);
      expect(statuses.get(409)).toBeGreaterThan(0);
      const audit = auditMoney(dbPath);
      expect({ seed, ...audit, unbalanced: audit.unbalanced.length }).toEqual({ seed, players: 30, bets: accepted.size, unbalanced: 0, betsWithoutStake: [], stakesWithoutBet: 0 });
      // What the API says matches the books.
      const db = new Database(dbPath, { readonly: true });
      for (const player of players.slice(0, 5)) {
        const me = (await (await fetch(`${base}/api/me`, { headers: authed(player.token) })).json()) as Me;
        const row = db.query("SELECT balance_cents FROM players WHERE id = ?").get(player.user_id) as { balance_cents: number };
        expect(Math.round(me.balance * 100)).toBe(row.balance_cents);
      }
      db.close();
    } finally {
      await api.stop("SIGKILL");
    }
  }, 120_000);

  test("a 202 means the bet is on disk: SIGKILL during a load of bets loses none, and no debit lacks its bet", async () => {
    const dbPath = join(dir, "kill.db");
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const api = await startApi(dbPath, port);
    const players = await Promise.all(Array.from({ length: 40 }, () => newSession(base)));
    const cells = (await getGrid(base)).cells.filter((c) => !c.locked && c.offered && c.multiplier < 100 && c.t_start - Date.now() > 15_000);
    const accepted = new Map<string, number>();
    let running = true;
    let sent = 0;
    const worker = async (w: number) => {
      while (running) {
        const player = players[(w + sent++) % players.length]!;
        try {
          const response = await postBet(base, player.token, { amount: 0.5, cell: cellOf(cells[sent % cells.length]!) });
          if (response.status === 202) accepted.set(((await response.json()) as BetAccepted).bet_id, 50);
          else await response.body?.cancel();
        } catch {
          return; // the server died under us: that request got no answer, so it promised nothing
        }
      }
    };
    const workers = Array.from({ length: 64 }, (_, w) => worker(w));
    await waitFor("a load of accepted bets", () => accepted.size > 1500, 20_000, 10);
    api.proc.kill("SIGKILL");
    running = false;
    await Promise.all(workers);
    await api.proc.exited;

    const restarted = await startApi(dbPath, port);
    try {
      const db = new Database(dbPath, { readonly: true });
      const stored = new Set((db.query("SELECT id FROM bets").all() as { id: string }[]).map((r) => r.id));
      db.close();
      const lost = [...accepted.keys()].filter((id) => !stored.has(id));
      expect({ accepted: accepted.size > 1500, lost }).toEqual({ accepted: true, lost: [] });
      const audit = auditMoney(dbPath);
      expect({ ...audit, unbalanced: audit.unbalanced.length }).toEqual({ players: 40, bets: stored.size, unbalanced: 0, betsWithoutStake: [], stakesWithoutBet: 0 });
      // The restarted API still knows each player's balance and takes bets.
      const me = (await (await fetch(`${base}/api/me`, { headers: authed(players[0]!.token) })).json()) as Me;
      expect(me.balance).toBeLessThan(100);
      expect((await postBet(base, players[0]!.token, { amount: 0.5, cell: cellOf(cells.at(-1)!) })).status).toBe(202);
    } finally {
      await restarted.stop("SIGKILL");
    }
  }, 120_000);
});
