import { expect, test } from "bun:test";
import { createLogLine } from "./log-line.ts";
import { createLogger, jsonString } from "./log.ts";

test("a line is the JSON line the logger writes for the same fields, in order with the logger's own", () => {
  const lines: string[] = [];
  const sink = { write: (line: string) => void lines.push(line) };
  const log = createLogger({ component: "ws", level: "info", sink });
  const line = createLogLine(sink, { component: "ws", msg: "hello" });
  line(`"conn":${jsonString("c-1")},"code":1000,"forwarded_for":null`);
  log.info({ conn: "c-1", code: 1000, forwarded_for: null }, "hello");
  expect(lines).toHaveLength(2);
  const [byHand, byPino] = lines.map((text) => text.replace(/"time":"[^"]*"/, '"time":""'));
  expect(byHand).toBe(byPino!);
  expect(lines[0]!.indexOf("\n")).toBe(lines[0]!.length - 1);
  expect(Number.isNaN(Date.parse(JSON.parse(lines[0]!).time))).toBe(false);
});

test("a component or message that needs escaping is escaped", () => {
  const lines: string[] = [];
  createLogLine({ write: (line: string) => void lines.push(line) }, { component: 'c"x', msg: "a\nb" })(`"n":1`);
  expect(JSON.parse(lines[0]!)).toMatchObject({ component: 'c"x', n: 1, msg: "a\nb" });
});
