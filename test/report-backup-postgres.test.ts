/**
 * `api report` and `api backup` on PostgreSQL (DATABASE_URL), as real
 * processes (`bun api/main.ts …`) on a database of this run's own. Players,
 * ticks, bets, their stakes and settlement credits are written as rows, the
 * same rows into PostgreSQL and into a temp SQLite file; then:
 * - the report's figures equal those worked out here from the rows, with no
 *   SQL, its audit passes, and it says the same (JSON and text) as the report
 *   of the SQLite file;
 * - balances moved behind the ledger's back, a wrong payout and a bet
 *   without its stake left open fail the audit (exit 1), naming the same ids
 *   as SQLite's audit;
 * - the backup is a pg_dump that pg_restore restores into a second database
 *   of our own with the same rows and the same books.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Report } from "../api/report/format.ts";
import { openReportConnection } from "../api/report/postgres-reader.ts";
import { openPostgresStore, type PgSql } from "../common/store/postgres.ts";
import { createTempDatabase, postgresMissing, type TempDatabase } from "./support/postgres.ts";
import { openTempStore } from "./support/temp-db.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const missing = await postgresMissing();
if (missing && !process.env.CI) console.warn(`test/report-backup-postgres.test.ts skipped: ${missing}`);
const run = !missing || Boolean(process.env.CI);

const ROOT = join(import.meta.dir, "..");
const BAND = 1000;
const WINDOW_MS = 5000;
const SETTLE_TIMEOUT_MS = 60_000;

/** Runs `bun api/main.ts <command> …` with only PATH and `env` set. */
function api(command: "report" | "backup", argv: string[], env: Record<string, string>) {
  const result = Bun.spawnSync([process.execPath, join(ROOT, "api", "main.ts"), command, ...argv], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", SETTLE_TIMEOUT_MS: String(SETTLE_TIMEOUT_MS), ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

/** A seeded generator, so a failing run can be repeated. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

interface Bet {
  id: string;
  player: string;
  stake: number;
  multiplierCenti: number;
  tStart: number;
  tEnd: number;
  low: number;
  createdAt: number;
  status: "open" | "won" | "lost" | "void";
  payout: number;
  settledAt: number | null;
}
interface Entry {
  player: string;
  kind: "grant" | "stake" | "payout" | "refund";
  cents: number;
  bet: string | null;
  at: number;
}
interface Rows {
  players: { id: string; at: number }[];
  ticks: { ts: number; cents: number }[];
  bets: Bet[];
  ledger: Entry[];
}

/**
 * Players (some made before the range, some in it), ticks every 2 s for the
 * last ten minutes, and bets in 5 s windows from ten minutes ago to a minute
 * ahead: the past ones settled won, lost or void a moment after their window,
 * the future ones open (not overdue, so the audit passes).
 */
function makeRows(now: number, seed: number): Rows {
  const rand = random(seed);
  const base = Math.floor(now / WINDOW_MS) * WINDOW_MS;
  const rows: Rows = { players: [], ticks: [], bets: [], ledger: [] };
  // Ids that byte order and a language's order sort apart ("Q…" before "p…" in bytes).
  const ids = ["p0", "p1", "p2", "p3", "Q9", "pa"];
  ids.forEach((id, i) => {
    const at = base - (i < 3 ? 20 : 2) * 60_000 + i;
    rows.players.push({ id, at });
    rows.ledger.push({ player: id, kind: "grant", cents: 100_000, bet: null, at });
  });
  for (let ts = base - 9 * 60_000; ts <= base; ts += 2000) rows.ticks.push({ ts, cents: 4_200_000 + Math.floor(rand() * 8000) - 4000 });
  const balance = new Map(ids.map((id) => [id, 100_000]));
  for (let i = 0; i < 90; i++) {
    const tEnd = base - 10 * 60_000 + Math.floor(rand() * 14) * 50_000;
    const player = ids[Math.floor(rand() * ids.length)]!;
    const stake = 10 + Math.floor(rand() * 990);
    const createdAt = tEnd - WINDOW_MS - 1000 - Math.floor(rand() * 20_000);
    if (createdAt < rows.players.find((p) => p.id === player)!.at || balance.get(player)! < stake) continue;
    const future = tEnd > now + 10_000;
    const status = future ? "open" : (["won", "lost", "lost", "void"] as const)[Math.floor(rand() * 4)]!;
    const multiplierCenti = 101 + Math.floor(rand() * 900);
    const bet: Bet = {
      id: `b${String(i).padStart(3, "0")}`,
      player,
      stake,
      multiplierCenti,
      tStart: tEnd - WINDOW_MS,
      tEnd,
      low: 4_200_000 + (Math.floor(rand() * 9) - 4) * BAND,
      createdAt,
      status,
      payout: status === "won" ? Math.floor((stake * multiplierCenti) / 100) : 0,
      settledAt: status === "open" ? null : tEnd + 200 + Math.floor(rand() * 2000),
    };
    rows.bets.push(bet);
    balance.set(player, balance.get(player)! - stake);
    rows.ledger.push({ player, kind: "stake", cents: -stake, bet: bet.id, at: createdAt });
  }
  for (const bet of rows.bets) {
    if (bet.status === "won") rows.ledger.push({ player: bet.player, kind: "payout", cents: bet.payout, bet: bet.id, at: bet.settledAt! });
    if (bet.status === "void") rows.ledger.push({ player: bet.player, kind: "refund", cents: bet.stake, bet: bet.id, at: bet.settledAt! });
  }
  return rows;
}

/** Writes `rows` through `exec` (one statement with `?` parameters): grants, bets and stakes, then settlements. */
async function writeRows(rows: Rows, exec: (text: string, params: unknown[]) => unknown): Promise<void> {
  const entry = (e: Entry) => exec("INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES (?, ?, ?, ?, ?)", [e.player, e.kind, e.cents, e.bet, e.at]);
  for (const p of rows.players) await exec("INSERT INTO players (id, created_at) VALUES (?, ?)", [p.id, p.at]);
  for (const t of rows.ticks) await exec("INSERT INTO ticks (ts, seq, price, price_cents, continuous, received_at) VALUES (?, ?, ?, ?, 1, ?)", [t.ts, t.ts / 1000, t.cents / 100, t.cents, t.ts]);
  for (const e of rows.ledger.filter((e) => e.kind === "grant")) await entry(e);
  for (const b of rows.bets) {
    await exec(
      `INSERT INTO bets (id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, created_at, balance_after_cents)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
      [b.id, b.player, b.stake, b.tStart, b.tEnd, b.low, b.low + BAND, b.multiplierCenti, b.createdAt],
    );
  }
  for (const e of rows.ledger.filter((e) => e.kind === "stake")) await entry(e);
  for (const b of rows.bets.filter((b) => b.status !== "open")) {
    await exec("UPDATE bets SET status = ?, payout_cents = ?, settled_at = ? WHERE id = ?", [b.status, b.payout, b.settledAt, b.id]);
  }
  for (const e of rows.ledger.filter((e) => e.kind === "payout" || e.kind === "refund")) await entry(e);
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The books of `[from, to)` worked out from the rows, as docs/report.md defines them. */
function expectedBooks(rows: Rows, from: number, to: number, top: number) {
  const flow = (kind: Entry["kind"]) => sum(rows.ledger.filter((e) => e.kind === kind && e.at >= from && e.at < to).map((e) => e.cents));
  const bets = rows.bets.filter((b) => b.tEnd >= from && b.tEnd < to);
  const outcome = (status: Bet["status"]) => {
    const of = bets.filter((b) => b.status === status);
    return { bets: of.length, stake_cents: sum(of.map((b) => b.stake)), payout_cents: sum(of.map((b) => b.payout)) };
  };
  const settled = bets.filter((b) => b.status === "won" || b.status === "lost");
  const settledStakes = sum(settled.map((b) => b.stake));
  const settledPayouts = sum(settled.map((b) => b.payout));
  const byAway = new Map<number | null, Bet[]>();
  for (const b of settled) {
    const spot = rows.ticks.filter((t) => t.ts <= b.createdAt).at(-1)?.cents;
    const away = spot === undefined ? null : Math.abs(b.low - Math.floor(spot / BAND) * BAND) / BAND;
    byAway.set(away, [...(byAway.get(away) ?? []), b]);
  }
  const windows = new Map<number, Bet[]>();
  for (const b of bets) windows.set(b.tEnd, [...(windows.get(b.tEnd) ?? []), b]);
  return {
    money: { stakes_cents: -flow("stake"), payouts_cents: flow("payout"), refunds_cents: flow("refund"), grants_cents: flow("grant"), house_net_cents: -flow("stake") - flow("payout") - flow("refund") },
    return_to_player: { settled_stakes_cents: settledStakes, settled_payouts_cents: settledPayouts, realised: settledStakes > 0 ? settledPayouts / settledStakes : null, theoretical: 0.95, house_edge: 0.05 },
    return_by_distance: [...byAway]
      .sort(([a], [b]) => (a ?? Infinity) - (b ?? Infinity))
      .map(([away, of]) => ({ bands_away: away, bets: of.length, stake_cents: sum(of.map((b) => b.stake)), payout_cents: sum(of.map((b) => b.payout)), realised: sum(of.map((b) => b.payout)) / sum(of.map((b) => b.stake)) })),
    outcomes: { open: outcome("open"), won: outcome("won"), lost: outcome("lost"), void: outcome("void") },
    top_windows: [...windows]
      .map(([tEnd, of]) => ({
        t_start: tEnd - WINDOW_MS,
        t_end: tEnd,
        bets: of.length,
        stake_cents: sum(of.map((b) => b.stake)),
        potential_payout_cents: sum(of.map((b) => Math.floor((b.stake * b.multiplierCenti) / 100))),
        payout_cents: sum(of.map((b) => b.payout)),
        open_bets: of.filter((b) => b.status === "open").length,
      }))
      .sort((a, b) => b.potential_payout_cents - a.potential_payout_cents || a.t_end - b.t_end)
      .slice(0, top),
  };
}

/** What two reports of the same rows share: all but where they were read from and when (an overdue bet's "N s ago" too). */
const comparable = (report: Report) => ({
  range: report.range,
  books: report.books,
  audit: { ...(JSON.parse(JSON.stringify(report.audit).replace(/\(\d+ s ago\)/g, "(N s ago)")) as Report["audit"]), at: 0 },
});
/** The text report without its lines naming the database and the time it was read. */
const comparableText = (text: string) => text.replace(/^ {2}database .*$/m, "").replace(/^Audit of the whole database at \S+:/m, "Audit:");

describe.skipIf(!run)("api report and api backup on PostgreSQL", () => {
  let database: TempDatabase;
  let restored: TempDatabase | undefined;
  let sql: PgSql;
  let sqlite: ReturnType<typeof openTempStore>;
  let dir: string;
  let rows: Rows;
  let range: string[];
  let from: number;
  let to: number;

  beforeAll(async () => {
    if (missing) throw new Error(`CI must have PostgreSQL: ${missing}`);
    database = await createTempDatabase("tap_report");
    sql = await openPostgresStore(database.url, { max: 2, applicationName: "report-backup-test" });
    sqlite = openTempStore();
    dir = mkdtempSync(join(tmpdir(), "tap-pg-backup-"));
    const now = Date.now();
    rows = makeRows(now, 20261203);
    // PostgreSQL numbers its parameters; SQLite reads them in order.
    await writeRows(rows, (text, params) => {
      let n = 0;
      return sql.unsafe(text.replace(/\?/g, () => `$${++n}`), params as never[]);
    });
    await writeRows(rows, (text, params) => sqlite.query(text).run(...(params as never[])));
    // A range that leaves out the earliest bets and grants: the books are the range's, the audit the whole database's.
    from = Math.floor(now / WINDOW_MS) * WINDOW_MS - 5 * 60_000;
    to = from + 10 * 60_000;
    range = ["--from", new Date(from).toISOString(), "--to", new Date(to).toISOString()];
  });

  afterAll(async () => {
    await sql?.end({ timeout: 1 });
    await database?.drop();
    await restored?.drop();
    sqlite?.[Symbol.dispose]();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the report's figures are the rows' own, its audit passes, and it says what SQLite's report of the same rows says", () => {
    // The rows are what the test meant: every kind of bet, inside and outside the range.
    expect(new Set(rows.bets.map((b) => b.status))).toEqual(new Set(["open", "won", "lost", "void"]));
    expect(rows.bets.some((b) => b.tEnd < from)).toBe(true);

    const url = database.url.replace("postgres@", "postgres:pw-do-not-show@"); // trust auth: the password is never checked
    const pg = api("report", [...range, "--json", "--top", "3"], { DATABASE_URL: url });
    expect(pg).toMatchObject({ code: 0, stderr: "" });
    expect(pg.stdout).not.toContain("pw-do-not-show");
    const report = JSON.parse(pg.stdout) as Report;
    expect(report.db).toBe(database.url.replace("postgres@", "***@"));
    expect(report.range).toEqual({ from, to });
    expect(report.books).toEqual(expectedBooks(rows, from, to, 3));
    expect(report.books.return_by_distance.length).toBeGreaterThan(1);
    expect(report.audit.ok).toBe(true);
    expect(report.audit.balances.checked).toBe(rows.players.length);
    expect(report.audit.stakes.checked).toBe(rows.bets.length);
    expect(report.audit.settlements.checked).toBe(rows.bets.filter((b) => b.status !== "open").length);
    expect(report.audit.overdue).toEqual({ checked: rows.bets.filter((b) => b.status === "open").length, failed: 0, examples: [] });

    const lite = api("report", [...range, "--json", "--top", "3", "--db", sqlite.path], {});
    expect(lite.code).toBe(0);
    expect(comparable(report)).toEqual(comparable(JSON.parse(lite.stdout) as Report));

    const text = api("report", range, { DATABASE_URL: database.url });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`database ${database.url.replace("postgres@", "***@")}`);
    expect(comparableText(text.stdout)).toBe(comparableText(api("report", [...range, "--db", sqlite.path], {}).stdout));
  });

  test("the report's connection cannot write: its session is read-only", async () => {
    const reader = openReportConnection(database.url);
    try {
      await expect(reader`INSERT INTO players (id, created_at) VALUES ('intruder', 0)`).rejects.toThrow("read-only transaction");
    } finally {
      await reader.end({ timeout: 1 });
    }
    expect([...(await sql`SELECT count(*) AS n FROM players WHERE id = 'intruder'`)]).toEqual([{ n: 0 }]);
  });

  test("the backup is a checked pg_dump that restores into another database with the same rows and books", async () => {
    const url = database.url.replace("postgres@", "postgres:pw-do-not-show@"); // trust auth: the password is never checked
    const backup = api("backup", ["--dir", dir, "--keep", "2"], { DATABASE_URL: url });
    expect(backup).toMatchObject({ code: 0, stderr: "" });
    expect(backup.stdout).not.toContain("pw-do-not-show");
    const line = JSON.parse(backup.stdout) as { path: string; bytes: number; db: string; integrity: string; pruned: string[] };
    expect(line).toMatchObject({ db: database.url.replace("postgres@", "***@"), integrity: "ok", pruned: [] });
    expect(line.path).toMatch(/\/bets-\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z\.dump$/);
    expect(readdirSync(dir)).toEqual([line.path.split("/").at(-1)!]);
    expect(statSync(line.path).size).toBe(line.bytes);
    expect(statSync(line.path).mode & 0o777).toBe(0o600);

    restored = await createTempDatabase("tap_restored");
    const restore = Bun.spawnSync(["pg_restore", "--no-owner", "--exit-on-error", `--dbname=${restored.url}`, line.path], { stdout: "pipe", stderr: "pipe" });
    expect({ code: restore.exitCode, stderr: restore.stderr.toString() }).toEqual({ code: 0, stderr: "" });
    const copy = await openPostgresStore(restored.url, { max: 1, migrations: [] });
    try {
      const counts = async (db: PgSql) =>
        (await db`SELECT (SELECT count(*) FROM players) AS players, (SELECT count(*) FROM bets) AS bets, (SELECT count(*) FROM ledger) AS ledger,
                         (SELECT count(*) FROM ticks) AS ticks, (SELECT sum(balance_cents)::bigint FROM players) AS balances`)[0];
      expect(await counts(copy)).toEqual({ players: rows.players.length, bets: rows.bets.length, ledger: rows.ledger.length, ticks: rows.ticks.length, balances: expect.any(Number) });
      expect(await counts(copy)).toEqual(await counts(sql));
    } finally {
      await copy.end({ timeout: 1 });
    }
    const original = JSON.parse(api("report", [...range, "--json"], { DATABASE_URL: database.url }).stdout) as Report;
    const fromBackup = api("report", [...range, "--json"], { DATABASE_URL: restored.url });
    expect(fromBackup.code).toBe(0);
    expect(comparable(JSON.parse(fromBackup.stdout) as Report)).toEqual(comparable(original));
  });

  test("balances moved behind the ledger's back, a wrong payout and a bet without its stake left open fail the audit with exit 1, naming what SQLite's audit names", async () => {
    const won = rows.bets.find((b) => b.status === "won")!;
    for (const id of ["pa", "Q9"]) {
      await sql`UPDATE players SET balance_cents = balance_cents + 500 WHERE id = ${id}`;
      sqlite.query("UPDATE players SET balance_cents = balance_cents + 500 WHERE id = ?1").run(id);
    }
    await sql`UPDATE bets SET payout_cents = payout_cents + 1 WHERE id = ${won.id}`;
    sqlite.query("UPDATE bets SET payout_cents = payout_cents + 1 WHERE id = ?1").run(won.id);
    // A bet left open long past its window, whose stake was never taken.
    const past = rows.bets.find((b) => b.status === "lost")!;
    const stray = [`${past.id}x`, past.player, past.stake, past.tStart, past.tEnd, past.low, past.low + BAND, past.multiplierCenti, past.createdAt];
    const insert = "INSERT INTO bets (id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, created_at, balance_after_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)";
    let n = 0;
    await sql.unsafe(insert.replace(/\?/g, () => `$${++n}`), stray as never[]);
    sqlite.query(insert).run(...(stray as never[]));

    const pg = api("report", [...range, "--json"], { DATABASE_URL: database.url });
    expect(pg.code).toBe(1);
    const report = JSON.parse(pg.stdout) as Report;
    expect(report.audit.ok).toBe(false);
    expect(report.audit.balances.failed).toBe(2);
    // Byte order of the ids, as SQLite lists them.
    expect(report.audit.balances.examples.map((e) => e.id)).toEqual(["Q9", "pa"]);
    expect(report.audit.balances.examples[0]!.problem).toMatch(/^balance \d+, ledger \d+$/);
    expect(report.audit.settlements).toMatchObject({ failed: 1, examples: [{ id: won.id }] });
    expect(report.audit.stakes).toMatchObject({ failed: 1, examples: [{ id: `${past.id}x`, problem: `stake ${past.stake}: 0 stake entries (none)` }] });
    expect(report.audit.overdue).toMatchObject({ failed: 1, examples: [{ id: `${past.id}x` }] });
    const lite = api("report", [...range, "--json", "--db", sqlite.path], {});
    expect(lite.code).toBe(1);
    expect(comparable(report).audit).toEqual(comparable(JSON.parse(lite.stdout) as Report).audit);

    const text = api("report", range, { DATABASE_URL: database.url });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain("FAILED");
  });
});
