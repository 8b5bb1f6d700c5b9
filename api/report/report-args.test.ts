import { describe, expect, test } from "bun:test";
import { parseReportArgs } from "./report-args.ts";
import { UsageError } from "./usage-error.ts";

const NOW = Date.parse("2026-12-02T13:45:10.500Z");
const day = (text: string) => Date.parse(`${text}T00:00:00Z`);

describe("parseReportArgs", () => {
  test("--day is that UTC day, end excluded", () => {
    expect(parseReportArgs(["--day", "2026-02-28"], NOW)).toEqual({ range: { from: day("2026-02-28"), to: day("2026-03-01") }, json: false, top: 5 });
  });

  test("no range is today so far", () => {
    expect(parseReportArgs(["--json"], NOW)).toEqual({ range: { from: day("2026-12-02"), to: NOW }, json: true, top: 5 });
  });

  test("dates in --from/--to are whole days, --to included; instants are taken as written, in their zone", () => {
    expect(parseReportArgs(["--from", "2026-11-01", "--to", "2026-11-30"], NOW).range).toEqual({ from: day("2026-11-01"), to: day("2026-12-01") });
    expect(parseReportArgs(["--from", "2026-12-01T22:00:00+02:00", "--to", "2026-12-02T06:30Z"], NOW).range).toEqual({
      from: Date.parse("2026-12-01T20:00:00Z"),
      to: Date.parse("2026-12-02T06:30:00Z"),
    });
    expect(parseReportArgs(["--from", "2026-12-02T08:00:00Z"], NOW).range).toEqual({ from: Date.parse("2026-12-02T08:00:00Z"), to: NOW });
  });

  test("--top, --db and --json are read", () => {
    expect(parseReportArgs(["--top", "12", "--db", "/tmp/x.db", "--json"], NOW)).toMatchObject({ top: 12, db: "/tmp/x.db", json: true });
  });

  for (const [argv, message] of [
    [["--day", "2026-02-30"], /--day: expected a date YYYY-MM-DD, got "2026-02-30"/],
    [["--day", "yesterday"], /--day: expected a date/],
    [["--day", "2026-12-01", "--from", "2026-11-01"], /--day cannot be combined/],
    [["--to", "2026-12-01"], /--to needs --from/],
    [["--from", "2026-12-02", "--to", "2026-12-01"], /--to .* must come after --from/],
    [["--from", "2026-12-02T08:00:00"], /--from: expected YYYY-MM-DD or an ISO 8601 instant with its zone/],
    [["--top=-1"], /--top: expected a whole number/],
    [["--top", "many"], /--top: expected a whole number/],
    [["--top", "2.5"], /--top: expected a whole number/],
    [["--db", ""], /--db: expected a path/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["--day"], /--day/],
    [["today"], /Unexpected argument 'today'/],
  ] as const) {
    test(`refuses ${JSON.stringify(argv)} with a UsageError that says why`, () => {
      expect(() => parseReportArgs(argv, NOW)).toThrow(UsageError);
      expect(() => parseReportArgs(argv, NOW)).toThrow(message);
    });
  }
});
