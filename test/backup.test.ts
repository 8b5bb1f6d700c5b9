/**
 * Backups that restore: `api backup` taken while a real API takes a load of
 * bets, restored as docs/backups.md says into a fresh system (its own Redis,
 * a new API on the restored file), is consistent and serves the players.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditBooks } from "../api/report/audit.ts";
import type { Me, SessionCreated } from "../common/contracts/session.ts";
import { authed, cellOf, getGrid, newSession, openCell, postBet } from "./support/api-client.ts";
import { auditMoney } from "./support/money-audit.ts";
import { startBetLoad, startBetsSystem } from "./support/bets-system.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const ROOT = join(import.meta.dir, "..");
const SECRET = "backup-test-secret-0123456789abcdef-xyz";

let dir: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tap-backup-"));
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

/** A Redis, a tick pump on it and an API on `dbPath`: one system. */
const startSystem = (dbPath: string) => startBetsSystem({ DB_PATH: dbPath }, SECRET, cleanups);

/** `api backup` as the timer runs it: the compiled binary when the tests run those, else `bun api/main.ts`. */
function spawnBackup(dbPath: string, backups: string) {
  const bin = process.env.SERVICE_BIN_DIR;
  const cmd = bin ? [join(bin, "api")] : [process.execPath, join(ROOT, "api", "main.ts")];
  return Bun.spawn([...cmd, "backup", "--db", dbPath, "--dir", backups], { cwd: ROOT, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, stdout: "pipe", stderr: "pipe" });
}

const betIds = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return new Set((db.query("SELECT id FROM bets").all() as { id: string }[]).map((row) => row.id));
  } finally {
    db.close();
  }
};

describe("backups", () => {
  test("a backup taken while bets are being placed restores into a fresh system that balances and serves its players", async () => {
    const livePath = join(dir, "live", "bets.db");
    const backups = join(dir, "live", "backups");
    const live = await startSystem(livePath);
    const players: SessionCreated[] = await Promise.all(Array.from({ length: 20 }, () => newSession(live.api.base)));
    const cells = (await getGrid(live.api.base)).cells.filter((c) => !c.locked && c.offered && c.multiplier < 100 && c.t_start - Date.now() > 15_000);
    expect(cells.length).toBeGreaterThan(0);

    // The load: 16 clients placing bets until told to stop.
    const load = startBetLoad(live.api, players, cells);
    const { accepted } = load;

    await load.guard(waitFor("bets accepted before the backup", () => accepted.length > 200, 20_000, 10));
    const acknowledgedBefore = accepted.slice();
    const backup = spawnBackup(livePath, backups);
    const [code, stdout, stderr] = await Promise.all([backup.exited, new Response(backup.stdout).text(), new Response(backup.stderr).text()]);
    const acceptedDuring = accepted.length - acknowledgedBefore.length;
    await load.guard(waitFor("bets accepted after the backup", () => accepted.length > acknowledgedBefore.length + acceptedDuring + 100, 20_000, 10));
    await load.stop();

    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const logged = JSON.parse(stdout) as { path: string; integrity: string; ms: number; bytes: number };
    expect(logged.integrity).toBe("ok");
    expect(readdirSync(backups)).toEqual([logged.path.slice(backups.length + 1)]);
    // The load never paused: bets were accepted while the backup ran.
    expect(acceptedDuring).toBeGreaterThan(0);

    // The backup is a snapshot of the live database in the middle of the load: every bet
    // acknowledged before it started is in it, and every bet in it is in the live database.
    const inBackup = betIds(logged.path);
    const inLive = betIds(livePath);
    expect(acknowledgedBefore.filter((id) => !inBackup.has(id))).toEqual([]);
    expect([...inBackup].filter((id) => !inLive.has(id))).toEqual([]);
    expect(inLive.size).toBeGreaterThan(inBackup.size);
    console.log(`backup: ${inBackup.size} of ${inLive.size} bets, ${acceptedDuring} accepted while the command ran (${load.resets} connection resets), copy and check ${logged.ms} ms, ${logged.bytes} bytes`);

    // Restore as docs/backups.md says, into a fresh system: the API stopped, the backup
    // copied in as the database, no -wal or -shm beside it, the API started on it.
    expect(await live.api.stop("SIGTERM")).toBe(0);
    const restoredPath = join(dir, "restored", "bets.db");
    mkdirSync(join(dir, "restored"));
    copyFileSync(logged.path, restoredPath);
    expect([existsSync(`${restoredPath}-wal`), existsSync(`${restoredPath}-shm`)]).toEqual([false, false]);

    const check = (path: string) => {
      const db = new Database(path, { readonly: true });
      try {
        return {
          integrity: (db.query("PRAGMA integrity_check").all() as { integrity_check: string }[]).map((row) => row.integrity_check),
          // Balances against their ledgers, one stake per bet, one credit per settled bet.
          audit: (({ balances, stakes, settlements }) => ({ balances: balances.failed, stakes: stakes.failed, settlements: settlements.failed }))(
            auditBooks(db, { now: Date.now(), settleTimeoutMs: 60_000 }),
          ),
        };
      } finally {
        db.close();
      }
    };
    expect(check(restoredPath)).toEqual({ integrity: ["ok"], audit: { balances: 0, stakes: 0, settlements: 0 } });
    const money = auditMoney(restoredPath);
    expect({ ...money, unbalanced: money.unbalanced.length }).toEqual({ players: players.length, bets: inBackup.size, unbalanced: 0, betsWithoutStake: [], stakesWithoutBet: 0 });

    const fresh = await startSystem(restoredPath);
    // Every player's token works on the restored system, with the balance its books hold.
    const restored = new Database(restoredPath, { readonly: true });
    try {
      for (const player of players) {
        await waitFor(`${player.user_id}'s balance from GET /api/me`, async () => {
          const response = await fetch(`${fresh.api.base}/api/me`, { headers: authed(player.token) });
          if (response.status !== 200) throw new Error(`GET /api/me: ${response.status} ${await response.text()}`);
          const me = (await response.json()) as Me;
          const row = restored.query("SELECT balance_cents FROM players WHERE id = ?1").get(player.user_id) as { balance_cents: number };
          return me.user_id === player.user_id && Math.round(me.balance * 100) === row.balance_cents;
        });
      }
    } finally {
      restored.close();
    }
    // And it takes bets again.
    const cell = openCell(await getGrid(fresh.api.base), undefined, 5000);
    expect((await postBet(fresh.api.base, players[0]!.token, { amount: 0.5, cell: cellOf(cell) })).status).toBe(202);
    expect(check(restoredPath).audit).toEqual({ balances: 0, stakes: 0, settlements: 0 });
  }, 90_000);
});
