/**
 * Backups that restore, on PostgreSQL: `api backup` (`bun api/main.ts backup`,
 * or the compiled binary with SERVICE_BIN_DIR) with DATABASE_URL, taken while
 * a real API on a database of this run's own takes bets from 16 clients,
 * restored with pg_restore as docs/backups.md says into a second database of
 * the run's own, is consistent and serves the players from a fresh system.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import type { Report } from "../api/report/format.ts";
import type { BetAccepted } from "../common/contracts/bet.ts";
import type { Me, SessionCreated } from "../common/contracts/session.ts";
import { authed, cellOf, getGrid, newSession, openCell, postBet } from "./support/api-client.ts";
import { unbalancedPlayers } from "./support/pg-settlement-check.ts";
import { createTempDatabase, postgresMissing, type TempDatabase } from "./support/postgres.ts";
import { startBetLoad, startBetsSystem } from "./support/bets-system.ts";
import type { RunningApi } from "./support/service.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test unless given, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const missing = await postgresMissing();
if (missing && !process.env.CI) console.warn(`test/backup-postgres.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

const ROOT = join(import.meta.dir, "..");
const SECRET = "backup-postgres-test-secret-0123456789abcdef";
// Bets still open in the copy (their window closed after the dump) are not overdue while the test runs.
const SETTLE_TIMEOUT_MS = "60000";

/** `api <command> …` as the timer and an operator run it: the compiled binary when the tests run those, else `bun api/main.ts`. */
function apiCommand(args: string[], env: Record<string, string>) {
  const bin = process.env.SERVICE_BIN_DIR;
  const cmd = bin ? [join(bin, "api")] : [process.execPath, join(ROOT, "api", "main.ts")];
  return Bun.spawn([...cmd, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", SETTLE_TIMEOUT_MS, ...env }, stdout: "pipe", stderr: "pipe" });
}

async function finished(proc: ReturnType<typeof apiCommand>) {
  const [code, stdout, stderr] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  return { code, stdout, stderr };
}

/** Bets whose stake is not exactly one ledger entry of minus the stake. */
async function betsWithoutOneStake(sql: postgres.Sql): Promise<string[]> {
  const rows = await sql`
    SELECT b.id FROM bets b LEFT JOIN ledger l ON l.bet_id = b.id AND l.kind = 'stake'
    GROUP BY b.id, b.stake_cents
    HAVING count(l.bet_id) <> 1 OR coalesce(sum(l.amount_cents), 0) <> -b.stake_cents`;
  return rows.map((row) => String(row.id));
}

const betIds = async (sql: postgres.Sql) => new Set((await sql`SELECT id FROM bets`).map((row) => String(row.id)));

describe.skipIf(!run)("backups on PostgreSQL", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  let dir: string;

  beforeAll(() => {
    if (missing) throw new Error(`CI must have PostgreSQL: ${missing}`);
    dir = mkdtempSync(join(tmpdir(), "tap-pg-backup-load-"));
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A database of our own or the restored one, a Redis, a tick pump and an API on it: one system. */
  async function startSystem(databaseUrl: string): Promise<RunningApi> {
    return (await startBetsSystem({ DATABASE_URL: databaseUrl, SETTLE_TIMEOUT_MS }, SECRET, cleanups)).api;
  }

  async function database(prefix: string): Promise<{ db: TempDatabase; sql: postgres.Sql }> {
    const db = await createTempDatabase(prefix);
    cleanups.push(() => db.drop());
    const sql = postgres(db.url, { max: 2, onnotice: () => {} });
    cleanups.push(() => sql.end({ timeout: 1 }));
    return { db, sql };
  }

  test("a backup taken while bets are being placed restores into a database that audits clean and a fresh system that serves its players", async () => {
    const { db: liveDb, sql: live } = await database("tap_backup_live");
    const api = await startSystem(liveDb.url);
    const players: SessionCreated[] = await Promise.all(Array.from({ length: 20 }, () => newSession(api.base)));
    // Near windows too, so the copy holds settled bets (and their credits) as well as open ones.
    const cells = (await getGrid(api.base)).cells.filter((c) => !c.locked && c.offered && c.multiplier < 100 && c.t_start - Date.now() > 3000);
    expect(cells.length).toBeGreaterThan(0);

    // The load: 16 clients placing bets until told to stop.
    const load = startBetLoad(api, players, cells);
    const { accepted } = load;

    await load.guard(waitFor("bets accepted before the backup", () => accepted.length > 200, 20_000, 10));
    // And some settled, so the copy also holds settled bets and their credits to audit.
    await load.guard(waitFor("bets settled before the backup", async () => (await live`SELECT 1 FROM bets WHERE status <> 'open' LIMIT 1`).length > 0, 30_000, 100));
    const acknowledgedBefore = accepted.slice();
    const backups = join(dir, "backups");
    const backup = await finished(apiCommand(["backup", "--dir", backups], { DATABASE_URL: liveDb.url }));
    const acceptedDuring = accepted.length - acknowledgedBefore.length;
    await load.guard(waitFor("bets accepted after the backup", () => accepted.length > acknowledgedBefore.length + acceptedDuring + 100, 20_000, 10));
    await load.stop();

    expect({ code: backup.code, stderr: backup.stderr }).toEqual({ code: 0, stderr: "" });
    const logged = JSON.parse(backup.stdout) as { path: string; integrity: string; ms: number; bytes: number };
    expect(logged.integrity).toBe("ok");
    expect(readdirSync(backups)).toEqual([logged.path.slice(backups.length + 1)]);
    // The load never paused: bets were accepted while the dump ran.
    expect(acceptedDuring).toBeGreaterThan(0);

    // Restore as docs/backups.md says: pg_restore into a new, empty database.
    const { db: restoredDb, sql: restored } = await database("tap_backup_restored");
    const restore = Bun.spawnSync(["pg_restore", "--no-owner", "--exit-on-error", `--dbname=${restoredDb.url}`, logged.path], { stdout: "pipe", stderr: "pipe" });
    expect({ code: restore.exitCode, stderr: restore.stderr.toString() }).toEqual({ code: 0, stderr: "" });

    // A snapshot of the live database in the middle of the load: every bet answered 202 before the backup began
    // is in it, and every bet in it is in the live database, which took more after.
    const inCopy = await betIds(restored);
    const inLive = await betIds(live);
    expect(acknowledgedBefore.filter((id) => !inCopy.has(id))).toEqual([]);
    expect([...inCopy].filter((id) => !inLive.has(id))).toEqual([]);
    expect(inLive.size).toBeGreaterThan(inCopy.size);
    const statuses = Object.fromEntries((await restored`SELECT status, count(*)::int AS n FROM bets GROUP BY status`).map((row) => [row.status, row.n]));
    console.log(`pg backup: ${inCopy.size} of ${inLive.size} bets (${JSON.stringify(statuses)}), ${acceptedDuring} accepted while the command ran (${load.resets} connection resets), dump and check ${logged.ms} ms, ${logged.bytes} bytes`);

    // Every balance equals its ledger, every bet has exactly one stake, and `api report`'s audit says so too.
    expect(await unbalancedPlayers(restored)).toEqual([]);
    expect(await betsWithoutOneStake(restored)).toEqual([]);
    const audit = async () => {
      const report = await finished(apiCommand(["report", "--json"], { DATABASE_URL: restoredDb.url }));
      expect({ code: report.code, stderr: report.stderr }).toEqual({ code: 0, stderr: "" });
      return (JSON.parse(report.stdout) as Report).audit;
    };
    const before = await audit();
    expect(before).toMatchObject({ ok: true, balances: { checked: players.length, failed: 0 }, stakes: { checked: inCopy.size, failed: 0 }, settlements: { failed: 0 } });
    expect(before.settlements.checked).toBe(inCopy.size - (statuses.open ?? 0));
    expect(before.settlements.checked).toBeGreaterThan(0);

    // An API started on the restored database (the live one stopped, its lease expired or given back) serves the players.
    expect(await api.stop("SIGTERM")).toBe(0);
    const fresh = await startSystem(restoredDb.url);
    for (const player of players) {
      await waitFor(`${player.user_id}'s balance from GET /api/me`, async () => {
        const response = await fetch(`${fresh.base}/api/me`, { headers: authed(player.token) });
        if (response.status !== 200) throw new Error(`GET /api/me: ${response.status} ${await response.text()}`);
        const me = (await response.json()) as Me;
        const [row] = await restored`SELECT balance_cents FROM players WHERE id = ${player.user_id}`;
        return me.user_id === player.user_id && Math.round(me.balance * 100) === Number(row!.balance_cents);
      });
    }
    const cell = openCell(await getGrid(fresh.base), undefined, 5000);
    const placed = await postBet(fresh.base, players[0]!.token, { amount: 0.5, cell: cellOf(cell) });
    expect(placed.status).toBe(202);
    const { bet_id } = (await placed.json()) as BetAccepted;
    await waitFor("the new bet stored", async () => (await restored`SELECT 1 FROM bets WHERE id = ${bet_id}`).length === 1);
    const after = await audit();
    expect(after).toMatchObject({ ok: true, stakes: { checked: inCopy.size + 1, failed: 0 } });
  }, 120_000);
});
