import { describe, expect, test } from "bun:test";
import { clockTime, formatLogLine, formatLogRecord, formatValue, parsePinoLine } from "./log-format.ts";

const plain = { nameWidth: 5, color: false };
const at = "2025-01-02T03:04:05.678Z";
const local = clockTime(new Date(at));

describe("formatLogLine", () => {
  test("a pino line becomes time, service, level, message, then key=value", () => {
    const line = JSON.stringify({ level: "info", time: at, component: "api", msg: "api listening", port: 8080, db: ".run/data/bets.db" });
    expect(formatLogLine("api", line, plain)).toBe(`${local} api   INFO  api listening port=8080 db=.run/data/bets.db`);
  });

  test("the clock column is HH:MM:SS.mmm", () => {
    expect(local).toMatch(/^\d\d:\d\d:\d\d\.678$/);
  });

  test("service and level columns line up across services and levels", () => {
    const lines = [
      formatLogLine("ws", JSON.stringify({ level: "warn", time: at, msg: "slow client" }), plain),
      formatLogLine("price", JSON.stringify({ level: "debug", time: at, msg: "tick" }), plain),
      formatLogLine("api", JSON.stringify({ level: "error", time: at, msg: "boom" }), plain),
    ];
    expect(lines).toEqual([`${local} ws    WARN  slow client`, `${local} price DEBUG tick`, `${local} api   ERROR boom`]);
  });

  test("numeric pino levels are named", () => {
    expect(formatLogLine("api", JSON.stringify({ level: 50, time: Date.parse(at), msg: "x" }), plain)).toBe(`${local} api   ERROR x`);
  });

  test("a component other than the service is shown", () => {
    const line = JSON.stringify({ level: "info", time: at, component: "bridge", msg: "m" });
    expect(formatLogLine("ws", line, plain)).toBe(`${local} ws    INFO  m component=bridge`);
  });

  test("non-JSON lines pass through behind the prefix", () => {
    const now = () => new Date(at);
    expect(formatLogLine("redis", "123:M 01 Jan 2025 * Ready to accept connections", { ...plain, now })).toBe(
      `${local} redis 123:M 01 Jan 2025 * Ready to accept connections`,
    );
    expect(formatLogLine("api", "{not json", { ...plain, now })).toBe(`${local} api   {not json`);
  });

  test("colour only when asked for", () => {
    const line = JSON.stringify({ level: "warn", time: at, msg: "careful", n: 1 });
    expect(formatLogLine("api", line, plain)).not.toContain("\x1b[");
    const colored = formatLogLine("api", line, { ...plain, color: true });
    expect(colored).toContain("\x1b[33mWARN ");
    expect(Bun.stripANSI(colored)).toBe(`${local} api   WARN  careful n=1`);
  });
});

describe("formatValue", () => {
  test("bare when unambiguous, quoted otherwise", () => {
    expect(formatValue("abc")).toBe("abc");
    expect(formatValue("two words")).toBe('"two words"');
    expect(formatValue("")).toBe('""');
    expect(formatValue(12.5)).toBe("12.5");
    expect(formatValue(false)).toBe("false");
    expect(formatValue(null)).toBe("null");
    expect(formatValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
  });

  test("a serialized error reads as its type and message", () => {
    expect(formatValue({ type: "TypeError", message: "bad thing", stack: "TypeError: bad thing\n    at x" })).toBe('"TypeError: bad thing"');
  });
});

describe("parsePinoLine", () => {
  test("only objects that look like pino records", () => {
    expect(parsePinoLine('{"level":"info","msg":"x"}')).toEqual({ level: "info", msg: "x" });
    expect(parsePinoLine('{"hello":1}')).toBeUndefined();
    expect(parsePinoLine("[1,2]")).toBeUndefined();
    expect(parsePinoLine("plain text")).toBeUndefined();
  });
});

test("formatLogRecord formats the supervisor's own records the same way", () => {
  expect(formatLogRecord("run", { level: "info", time: at, msg: "started", service: "api", pid: 42 }, plain)).toBe(
    `${local} run   INFO  started service=api pid=42`,
  );
});
