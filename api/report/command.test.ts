import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { loadConfig } from "../../common/config.ts";
import { openTempStore } from "../../test/support/temp-db.ts";
import { readApiConfig } from "../config.ts";
import { DAY, DAY_START, seedBooks } from "./_books-fixture.ts";
import { runReportCommand } from "./command.ts";
import type { Report } from "./format.ts";
import { reportVars } from "./report-config.ts";

/** After every seeded window plus the timeout: the seed's open bets are overdue then. */
const LATE = DAY_START + 3 * DAY;

function run(argv: string[], env: Record<string, string> = {}, now = DAY_START - DAY) {
  const out: string[] = [];
  const err: string[] = [];
  const status = runReportCommand(argv, { env, now: () => now, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) });
  // SQLite's path answers synchronously: a number, never a promise.
  if (typeof status !== "number") throw new TypeError("runReportCommand returned a promise on SQLite");
  return { status, stdout: out.join(""), stderr: err.join("") };
}

async function runAsync(argv: string[], env: Record<string, string>) {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runReportCommand(argv, { env, now: () => DAY_START, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) });
  return { status, stdout: out.join(""), stderr: err.join("") };
}

const digest = (path: string) => new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");

describe("api report", () => {
  test("--json prints one object with the range's books and a passed audit, exit 0, and writes nothing", () => {
    using db = openTempStore();
    seedBooks(db, 31);
    const before = [digest(db.path), digest(`${db.path}-wal`)];
    const result = run(["--day", "2026-12-02", "--json", "--db", db.path]);
    expect(result).toMatchObject({ status: 0, stderr: "" });
    const report = JSON.parse(result.stdout) as Report;
    expect(report.range).toEqual({ from: DAY_START, to: DAY_START + DAY });
    expect(report.db).toBe(db.path);
    expect(report.books.return_to_player.theoretical).toBe(0.95);
    expect(report.audit.ok).toBe(true);
    expect([digest(db.path), digest(`${db.path}-wal`)]).toEqual(before);
  });

  test("reads DB_PATH and HOUSE_EDGE as the API does", () => {
    using db = openTempStore();
    seedBooks(db, 32);
    const report = JSON.parse(run(["--json"], { DB_PATH: db.path, HOUSE_EDGE: "0.03" }).stdout) as Report;
    expect(report.db).toBe(db.path);
    expect(report.books.return_to_player).toMatchObject({ house_edge: 0.03, theoretical: 0.97 });
  });

  test("exits 1 when the audit fails: a balance off its ledger, or bets left open past SETTLE_TIMEOUT_MS", () => {
    using db = openTempStore();
    seedBooks(db, 33);
    expect(run(["--db", db.path], {}, LATE)).toMatchObject({ status: 1 });
    expect(run(["--db", db.path])).toMatchObject({ status: 0 });
    db.query("UPDATE players SET balance_cents = balance_cents + 100 WHERE id = 'p0'").run();
    const result = run(["--db", db.path]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("FAILED");
  });

  test("a bad command line exits 2 with the reason and the usage, never a stack trace", () => {
    for (const argv of [["--day", "2026-12-32"], ["--frm", "2026-12-01"], ["--db", "/nonexistent/bets.db"]]) {
      const result = run(argv);
      expect({ argv, status: result.status, stdout: result.stdout }).toEqual({ argv, status: 2, stdout: "" });
      expect(result.stderr).toStartWith("api report: ");
      expect(result.stderr).toContain("usage: api report");
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  test("--help prints the usage and exits 0", () => {
    expect(run(["--help"])).toMatchObject({ status: 0, stdout: expect.stringContaining("usage: api report") });
  });

  test("a bad setting exits 78 naming the variable", () => {
    const result = run([], { HOUSE_EDGE: "5%" });
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('HOUSE_EDGE="5%"');
  });

  test("reads the same DB_PATH, HOUSE_EDGE and SETTLE_TIMEOUT_MS as the API, set or not", () => {
    for (const env of [{}, { DB_PATH: "/data/x.db", HOUSE_EDGE: "0.07", SETTLE_TIMEOUT_MS: "90000" }]) {
      const api = readApiConfig({ SESSION_SECRET: "report-test-secret-0123456789abcdef", ...env });
      const report = loadConfig(reportVars, env);
      expect(report).toEqual({ dbPath: api.dbPath, houseEdge: api.houseEdge, settleTimeoutMs: api.settleTimeoutMs });
    }
  });

  test("with DATABASE_URL it reads PostgreSQL: one that does not answer exits 1, named without its password", async () => {
    // Nothing listens on port 1: refused at once, no server needed.
    const result = await runAsync(["--json"], { DATABASE_URL: "postgres://tap:pw-do-not-show@127.0.0.1:1/tap" });
    expect(result).toMatchObject({ status: 1, stdout: "" });
    expect(result.stderr).toStartWith("api report: could not read postgres://***@127.0.0.1:1/tap: ");
    expect(result.stderr).not.toContain("pw-do-not-show");
  });

  test("--db reads that SQLite file even when DATABASE_URL is set; a bad DATABASE_URL is a bad setting, not shown", () => {
    using db = openTempStore();
    seedBooks(db, 34);
    const report = JSON.parse(run(["--json", "--db", db.path], { DATABASE_URL: "postgres://tap@127.0.0.1:1/tap" }).stdout) as Report;
    expect(report.db).toBe(db.path);
    const bad = run([], { DATABASE_URL: "mysql://tap:pw-do-not-show@db/tap" });
    expect(bad.status).toBe(78);
    expect(bad.stderr).toContain("DATABASE_URL");
    expect(bad.stderr).not.toContain("pw-do-not-show");
  });
});
