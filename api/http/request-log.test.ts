import { expect, test } from "bun:test";
import { createRequestLogger } from "./request-log.ts";

test("one JSON line per request, whatever the path holds", () => {
  const lines: string[] = [];
  const logRequest = createRequestLogger({ write: (line: string) => void lines.push(line) }, true);
  logRequest("GET", '/api/"odd"\\path', 404, 0.25, "req-1");
  expect(lines).toHaveLength(1);
  expect(lines[0]!.endsWith("\n")).toBe(true);
  expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", component: "api", method: "GET", path: '/api/"odd"\\path', status: 404, duration_ms: 0.25, request_id: "req-1", msg: "request" });
});

test("off below info: nothing is written", () => {
  const lines: string[] = [];
  createRequestLogger({ write: (line: string) => void lines.push(line) }, false)("GET", "/", 200, 1, "r");
  expect(lines).toEqual([]);
});
