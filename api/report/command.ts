import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { ConfigError, loadConfig } from "../../common/config.ts";
import { redactUrl } from "../../common/redact.ts";
import { auditBooks } from "./audit.ts";
import { readBooks } from "./books.ts";
import { commandDatabaseUrl, hideUrlPassword } from "./database-url.ts";
import { formatReport, type Report } from "./format.ts";
import { openReportConnection, readPostgresReport } from "./postgres-reader.ts";
import { reportVars } from "./report-config.ts";
import { parseReportArgs, type ReportArgs, REPORT_USAGE } from "./report-args.ts";
import { EXIT_USAGE, UsageError } from "./usage-error.ts";

/**
 * Where a command writes, and what it reads the time and settings from: the
 * process's in `api/main.ts`, a test's own in unit tests.
 *
 * ```ts
 * const io: CommandIo = { env: process.env, now: Date.now, stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) };
 * ```
 */
export interface CommandIo {
  env: Record<string, string | undefined>;
  now: () => number;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/**
 * What `api` says it can do, when asked for a command it does not know.
 *
 * ```ts
 * io.stderr(`api: unknown command "foo"\n${COMMANDS_USAGE}`);
 * ```
 */
export const COMMANDS_USAGE =
  "usage: api                 start the API server (as the unit does)\n" +
  "       api backup [--help]   an online backup of the database (docs/backups.md)\n" +
  "       api report [--help]   the house's books and their audit (docs/report.md)\n";

/** sysexits' EX_CONFIG, as the services exit on a bad setting. */
const EXIT_CONFIG = 78;
/** The audit found something wrong, or the database could not be read. */
const EXIT_FAILED = 1;

/**
 * `api report [--day D | --from A [--to B]] [--top N] [--json] [--db PATH]`:
 * the house's books for the range and the audit of the whole database, read
 * from a read-only connection: SQLite at `--db` or DB_PATH, or PostgreSQL at
 * DATABASE_URL when it is set and `--db` is not given. Returns the exit status
 * (a promise of it on PostgreSQL; SQLite's path stays synchronous): 0 when the
 * audit passes, 1 when it fails (or the database cannot be read), 2 for a bad
 * command line, 78 for a bad setting (DB_PATH, DATABASE_URL, HOUSE_EDGE, SETTLE_TIMEOUT_MS).
 *
 * ```ts
 * const status = await runReportCommand(["--day", "2026-12-02", "--json"], io);
 * ```
 */
export function runReportCommand(argv: readonly string[], io: CommandIo): number | Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    io.stdout(REPORT_USAGE);
    return 0;
  }
  const now = io.now();
  let args;
  let config;
  let databaseUrl;
  try {
    args = parseReportArgs(argv, now);
    config = loadConfig(reportVars, io.env);
    // --db names a SQLite file (a backup, say) even where the API runs on PostgreSQL.
    databaseUrl = args.db === undefined ? commandDatabaseUrl(io.env) : undefined;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`api report: ${error.message}\n${REPORT_USAGE}`);
      return EXIT_USAGE;
    }
    if (error instanceof ConfigError) {
      io.stderr(`api report: bad configuration: ${error.message}\n`);
      return EXIT_CONFIG;
    }
    throw error;
  }
  const settings = { now, houseEdge: config.houseEdge, settleTimeoutMs: config.settleTimeoutMs };
  if (databaseUrl !== undefined) return reportFromPostgres(databaseUrl, args, settings, io);
  const path = args.db ?? config.dbPath;
  // A read-only connection would not create it, but say so plainly rather than "unable to open".
  if (!existsSync(path)) {
    io.stderr(`api report: no database at ${path} (--db PATH, or DB_PATH)\n${REPORT_USAGE}`);
    return EXIT_USAGE;
  }
  let report: Report;
  try {
    const db = new Database(path, { readonly: true });
    try {
      db.exec("PRAGMA busy_timeout = 5000");
      report = {
        db: path,
        generated_at: new Date(now).toISOString(),
        range: args.range,
        books: readBooks(db, args.range, { houseEdge: config.houseEdge, top: args.top }),
        audit: auditBooks(db, { now, settleTimeoutMs: config.settleTimeoutMs }),
      };
    } finally {
      db.close();
    }
  } catch (error) {
    io.stderr(`api report: could not read ${path}: ${(error as Error).message}\n`);
    return EXIT_FAILED;
  }
  return printReport(report, args, io);
}

/** The report read from PostgreSQL at `url`; the URL is shown without its password, in the report and in errors. */
async function reportFromPostgres(url: string, args: ReportArgs, settings: { now: number; houseEdge: number; settleTimeoutMs: number }, io: CommandIo): Promise<number> {
  const where = redactUrl(url);
  let report: Report;
  const sql = openReportConnection(url);
  try {
    const { books, audit } = await readPostgresReport(sql, { range: args.range, top: args.top, ...settings });
    report = { db: where, generated_at: new Date(settings.now).toISOString(), range: args.range, books, audit };
  } catch (error) {
    io.stderr(`api report: could not read ${where}: ${hideUrlPassword((error as Error).message, url)}\n`);
    return EXIT_FAILED;
  } finally {
    await sql.end({ timeout: 5 });
  }
  return printReport(report, args, io);
}

/** Prints the report as text or JSON; the exit status says whether its audit passed. */
function printReport(report: Report, args: ReportArgs, io: CommandIo): number {
  io.stdout(args.json ? `${JSON.stringify(report)}\n` : formatReport(report));
  return report.audit.ok ? 0 : EXIT_FAILED;
}
