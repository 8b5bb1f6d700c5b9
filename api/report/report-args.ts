import { parseOptions, UsageError } from "./usage-error.ts";

/**
 * A span of time, `[from, to)` in ms since the epoch (UTC).
 *
 * ```ts
 * const day: TimeRange = { from: Date.UTC(2026, 11, 2), to: Date.UTC(2026, 11, 3) };
 * ```
 */
export interface TimeRange {
  from: number;
  to: number;
}

/**
 * What `api report` was asked for.
 *
 * ```ts
 * const args: ReportArgs = { range: { from: Date.UTC(2026, 11, 2), to: Date.UTC(2026, 11, 3) }, json: false, top: 5 };
 * ```
 */
export interface ReportArgs {
  range: TimeRange;
  json: boolean;
  /** How many windows the exposure table lists. */
  top: number;
  /** The SQLite file to read; when not given, PostgreSQL at DATABASE_URL if set, else DB_PATH (as the API's). */
  db?: string;
}

/**
 * The usage `api report` prints with a bad command line, or `--help`.
 *
 * ```ts
 * io.stderr(`api report: ${error.message}\n${REPORT_USAGE}`);
 * ```
 */
export const REPORT_USAGE =
  "usage: api report [--day YYYY-MM-DD | --from DATE|INSTANT [--to DATE|INSTANT]] [--top N] [--json] [--db PATH]\n" +
  "  no range: today (UTC) so far; a DATE in --to includes that whole day; an INSTANT is ISO 8601 with its zone (2026-12-02T08:00:00Z)\n" +
  "  the database: --db PATH (a SQLite file), else PostgreSQL at DATABASE_URL when set, else DB_PATH\n";

const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** An ISO 8601 instant that names its zone: the report never guesses a local time. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const MAX_TOP = 1000;

/** Midnight UTC starting `text` (YYYY-MM-DD), checked to be a real date. */
function dayStart(option: string, text: string): number {
  const match = DATE.exec(text);
  if (match) {
    const [, y, m, d] = match.map(Number) as [number, number, number, number];
    const ms = Date.UTC(y, m - 1, d);
    const back = new Date(ms);
    if (back.getUTCFullYear() === y && back.getUTCMonth() === m - 1 && back.getUTCDate() === d) return ms;
  }
  throw new UsageError(`${option}: expected a date YYYY-MM-DD, got ${JSON.stringify(text)}`);
}

/** A DATE (its midnight, or the next one for the end of a range) or an INSTANT. */
function boundary(option: string, text: string, end: boolean): number {
  if (DATE.test(text)) return dayStart(option, text) + (end ? DAY_MS : 0);
  const ms = INSTANT.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`${option}: expected YYYY-MM-DD or an ISO 8601 instant with its zone, got ${JSON.stringify(text)}`);
  return ms;
}

/**
 * Reads `api report`'s options (after the word `report`); throws a
 * `UsageError` naming the bad one. The range is UTC: `--day` is that day,
 * `--from`/`--to` take dates (whole days, `--to` included) or instants
 * (`--to` excluded), and nothing means today so far.
 *
 * ```ts
 * parseReportArgs(["--day", "2026-12-02", "--json"], Date.now());
 * // { range: { from: 1796169600000, to: 1796256000000 }, json: true, top: 5 }
 * ```
 */
export function parseReportArgs(argv: readonly string[], now: number): ReportArgs {
  const { values } = parseOptions(argv, {
    day: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    top: { type: "string" },
    json: { type: "boolean" },
    db: { type: "string" },
  });
  let range: TimeRange;
  if (values.day !== undefined) {
    if (values.from !== undefined || values.to !== undefined) throw new UsageError("--day cannot be combined with --from or --to");
    const from = dayStart("--day", values.day);
    range = { from, to: from + DAY_MS };
  } else if (values.from !== undefined) {
    range = { from: boundary("--from", values.from, false), to: values.to === undefined ? now : boundary("--to", values.to, true) };
    if (range.to <= range.from) throw new UsageError(`--to (${new Date(range.to).toISOString()}) must come after --from (${new Date(range.from).toISOString()})`);
  } else if (values.to !== undefined) {
    throw new UsageError("--to needs --from");
  } else {
    const today = Math.floor(now / DAY_MS) * DAY_MS;
    range = { from: today, to: now };
  }
  const top = values.top === undefined ? 5 : Number(values.top);
  if (!Number.isInteger(top) || top < 0 || top > MAX_TOP || !/^\d+$/.test(values.top ?? "5")) {
    throw new UsageError(`--top: expected a whole number from 0 to ${MAX_TOP}, got ${JSON.stringify(values.top)}`);
  }
  if (values.db !== undefined && values.db.trim() === "") throw new UsageError("--db: expected a path");
  return { range, json: values.json ?? false, top, ...(values.db !== undefined ? { db: values.db } : {}) };
}
