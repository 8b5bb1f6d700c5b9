/**
 * `api report` on a database a real API wrote: its figures are what the
 * players were told (GET /api/bets), its audit passes, and it fails when a
 * balance is changed behind the ledger's back. Run as `bun api/main.ts
 * report`, as the compiled binary (scripts/build.sh) and as `make report`.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Report } from "../api/report/format.ts";
import type { BetAccepted, BetPage, BetView } from "../common/contracts/bet.ts";
import type { GridCell } from "../common/contracts/grid.ts";
import { authed, cellOf, getGrid, newSession, postBet } from "./support/api-client.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { startApi } from "./support/service.ts";
import { startTickPump, type TickPump } from "./support/tick-pump.ts";
import { waitFor } from "./support/wait.ts";

// These tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const ROOT = join(import.meta.dir, "..");
const PRICE = 42_000;
const cents = (dollars: number) => Math.round(dollars * 100);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

let redis: TestRedis;
let pump: TickPump;
let dir: string;
/** The database a real API wrote, stopped cleanly; and what its players were told. */
let dbPath: string;
let views: BetView[];
let started: number;
let stopped: number;

/** Runs the command: `bun api/main.ts …`, or the compiled binary. */
function report(argv: string[], { compiled = false, env = {} }: { compiled?: boolean; env?: Record<string, string> } = {}) {
  const cmd = compiled ? [join(ROOT, "dist", "bin", "api")] : [process.execPath, join(ROOT, "api", "main.ts")];
  const run = Bun.spawnSync([...cmd, "report", ...argv], { cwd: ROOT, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

/** Every bet of a player, from the API, a page at a time. */
async function betsOf(base: string, token: string): Promise<BetView[]> {
  const all: BetView[] = [];
  let before: string | null = null;
  do {
    const response = await fetch(`${base}/api/bets?limit=100${before ? `&before=${before}` : ""}`, { headers: authed(token) });
    const page = (await response.json()) as BetPage;
    all.push(...page.bets);
    before = page.next_before;
  } while (before);
  return all;
}

beforeAll(async () => {
  const build = Bun.spawnSync(["bash", join(ROOT, "scripts", "build.sh"), "api"], { stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`scripts/build.sh failed:\n${build.stdout}${build.stderr}`);
  redis = await startRedis();
  pump = await startTickPump(redis.url, PRICE);
  dir = mkdtempSync(join(tmpdir(), "tap-report-"));
  dbPath = join(dir, "data", "bets.db");
  started = Date.now();
  const api = await startApi({ REDIS_URL: redis.url, DB_PATH: dbPath, LOG_LEVEL: "warn", BETS_PER_PLAYER_PER_S: "1000" }, { grid: true });
  try {
    const players = await Promise.all(Array.from({ length: 4 }, () => newSession(api.base)));
    const grid = await getGrid(api.base);
    // The two soonest open columns, every band: the band at the price wins, the others lose.
    const open = grid.cells.filter((c) => !c.locked && c.offered && c.multiplier < 100 && c.t_start - Date.now() > 1500);
    const soonest = [...new Set(open.map((c) => c.t_start))].sort((a, b) => a - b).slice(0, 2);
    const cells = open.filter((c) => soonest.includes(c.t_start) && Math.abs((c.price_low + c.price_high) / 2 - PRICE) < 60);
    const last: GridCell = open.at(-1)!;
    const placed: string[] = [];
    for (const [i, cell] of cells.entries()) {
      const player = players[i % players.length]!;
      const response = await postBet(api.base, player.token, { amount: 1 + (i % 5), cell: cellOf(cell) });
      if (response.status === 202) placed.push(((await response.json()) as BetAccepted).bet_id);
      else await response.body?.cancel();
    }
    // One bet on the last column stays open while the report runs.
    expect((await postBet(api.base, players[0]!.token, { amount: 2.5, cell: cellOf(last) })).status).toBe(202);
    expect(placed.length).toBeGreaterThan(3);
    await waitFor(
      "the early columns' bets settled",
      async () => {
        const all = (await Promise.all(players.map((p) => betsOf(api.base, p.token)))).flat();
        return all.filter((bet) => bet.status === "open").length === 1 ? all : undefined;
      },
      25_000,
      250,
    );
    views = (await Promise.all(players.map((p) => betsOf(api.base, p.token)))).flat();
  } finally {
    expect(await api.stop("SIGTERM")).toBe(0);
  }
  stopped = Date.now();
}, 60_000);

afterAll(async () => {
  await pump?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const range = () => ["--from", new Date(started - 60_000).toISOString(), "--to", new Date(stopped + 3_600_000).toISOString()];

describe("api report", () => {
  test("its figures are what the API told the players, and the audit passes: exit 0 (bun and the compiled binary)", () => {
    const won = views.filter((b) => b.status === "won");
    const lost = views.filter((b) => b.status === "lost");
    const voided = views.filter((b) => b.status === "void");
    expect(won.length).toBeGreaterThan(0);
    expect(lost.length).toBeGreaterThan(0);

    const runs = [report([...range(), "--json", "--db", dbPath]), report([...range(), "--json", "--db", dbPath], { compiled: true })];
    for (const run of runs) {
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
      const { books, audit } = JSON.parse(run.stdout) as Report;
      const stakes = sum(views.map((b) => cents(b.amount)));
      const payouts = sum(won.map((b) => cents(b.payout)));
      const refunds = sum(voided.map((b) => cents(b.amount)));
      expect(books.money).toEqual({ stakes_cents: stakes, payouts_cents: payouts, refunds_cents: refunds, grants_cents: 4 * 100_000, house_net_cents: stakes - payouts - refunds });
      for (const status of ["open", "won", "lost", "void"] as const) {
        const these = views.filter((b) => b.status === status);
        expect({ status, ...books.outcomes[status] }).toEqual({ status, bets: these.length, stake_cents: sum(these.map((b) => cents(b.amount))), payout_cents: sum(these.map((b) => cents(b.payout))) });
      }
      const played = sum([...won, ...lost].map((b) => cents(b.amount)));
      expect(books.return_to_player).toEqual({ settled_stakes_cents: played, settled_payouts_cents: payouts, realised: payouts / played, theoretical: 0.95, house_edge: 0.05 });
      const windows = new Map<number, BetView[]>();
      for (const bet of views) windows.set(bet.cell.t_end, [...(windows.get(bet.cell.t_end) ?? []), bet]);
      const largest = [...windows.values()].map((bets) => sum(bets.map((b) => cents(b.potential_payout)))).sort((a, b) => b - a);
      expect(books.top_windows.map((w) => w.potential_payout_cents)).toEqual(largest.slice(0, 5));
      expect(audit).toMatchObject({ ok: true, balances: { checked: 4, failed: 0 }, stakes: { checked: views.length, failed: 0 }, overdue: { checked: 1, failed: 0 } });
    }
  });

  test("`make report` reads make run's database under RUN_DIR and prints the books as text", () => {
    const make = Bun.spawnSync(["make", "-s", "report", `ARGS=${range().join(" ")}`], { cwd: ROOT, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", RUN_DIR: dir }, stdout: "pipe", stderr: "pipe" });
    expect({ code: make.exitCode, stderr: make.stderr.toString() }).toEqual({ code: 0, stderr: "" });
    const text = make.stdout.toString();
    expect(text).toContain(`database ${dir}/data/bets.db`);
    expect(text).toMatch(new RegExp(`\\n  won +${views.filter((b) => b.status === "won").length} `));
    expect(text).toMatch(/: PASSED\n/);
  });

  test("a balance changed behind the ledger's back fails the audit: exit 1, naming the player (bun and the compiled binary)", () => {
    const corrupt = join(dir, "corrupt", "bets.db");
    mkdirSync(join(dir, "corrupt"));
    const source = new Database(dbPath, { readonly: true });
    source.query("VACUUM INTO ?1").run(corrupt);
    source.close();
    const db = new Database(corrupt);
    const { id } = db.query("SELECT id FROM players ORDER BY id LIMIT 1").get() as { id: string };
    db.query("UPDATE players SET balance_cents = balance_cents + 500 WHERE id = ?1").run(id);
    db.close();

    for (const compiled of [false, true]) {
      const text = report([...range(), "--db", corrupt], { compiled });
      expect({ compiled, code: text.code }).toEqual({ compiled, code: 1 });
      expect(text.stdout).toMatch(/: FAILED\n/);
      expect(text.stdout).toContain(`${id}: balance`);
      const json = report([...range(), "--db", corrupt, "--json"], { compiled });
      expect(json.code).toBe(1);
      expect((JSON.parse(json.stdout) as Report).audit.balances).toMatchObject({ failed: 1, examples: [{ id }] });
    }
    // The untouched database still passes.
    expect(report([...range(), "--db", dbPath]).code).toBe(0);
  });

  test("bad arguments exit 2 with a clear message and never a stack trace (bun and the compiled binary)", () => {
    for (const compiled of [false, true]) {
      for (const argv of [["--day", "2026-02-30"], ["--bogus"], ["--from", "2026-12-02", "--to", "2026-12-01"], ["--db", join(dir, "nothing.db")]]) {
        const run = report(argv, { compiled });
        expect({ compiled, argv, code: run.code, stdout: run.stdout }).toEqual({ compiled, argv, code: 2, stdout: "" });
        expect(run.stderr).toStartWith("api report: ");
        expect(run.stderr).not.toMatch(/\n\s+at |error:/);
      }
    }
  });
});
