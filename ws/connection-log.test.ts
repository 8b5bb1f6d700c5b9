import { describe, expect, test } from "bun:test";
import { createLogger } from "../common/log.ts";
import { createConnectionLog } from "./connection-log.ts";

function capture(level: "info" | "warn", direct: boolean) {
  const lines: string[] = [];
  const sink = { write: (line: string) => void lines.push(line) };
  const log = createLogger({ component: "ws", level, sink });
  return { lines, log, connections: createConnectionLog(log, direct ? sink : undefined) };
}

for (const [name, direct] of [["written to the sink", true], ["through the logger", false]] as const) {
  describe(`connection lines ${name}`, () => {
    test("the open and close lines are the JSON lines pino would write, in order with the logger's own", () => {
      const { lines, log, connections } = capture("info", direct);
      connections.opened("01a2-b3", "::ffff:127.0.0.1", null);
      log.info({ conn: "01a2-b3" }, "between");
      connections.closed("01a2-b3", 1000, "bye", 42, "peer");
      expect(lines.map((line) => JSON.parse(line).msg)).toEqual(["connection opened", "between", "connection closed"]);
      expect(lines.every((line) => line.endsWith("}\n"))).toBe(true);
      const [opened, , closed] = lines.map((line) => JSON.parse(line));
      expect(Object.keys(opened)).toEqual(["level", "time", "component", "conn", "remote", "forwarded_for", "msg"]);
      expect(opened).toEqual({ level: "info", time: expect.any(String), component: "ws", conn: "01a2-b3", remote: "::ffff:127.0.0.1", forwarded_for: null, msg: "connection opened" });
      expect(closed).toEqual({ level: "info", time: expect.any(String), component: "ws", conn: "01a2-b3", code: 1000, reason: "bye", duration_ms: 42, closed_by: "peer", msg: "connection closed" });
      expect(Number.isNaN(Date.parse(opened.time))).toBe(false);
    });

    test("what a client chooses (a forwarded-for header, a close reason) is escaped, never breaking the line", () => {
      const { lines, connections } = capture("info", direct);
      connections.opened("c", "10.0.0.1", '1.2.3.4", "level":"error');
      connections.closed("c", 4000, 'quote " backslash \\ newline \n é', 1, "rate limit");
      expect(lines).toHaveLength(2);
      expect(lines.every((line) => line.indexOf("\n") === line.length - 1)).toBe(true);
      expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", forwarded_for: '1.2.3.4", "level":"error' });
      expect(JSON.parse(lines[1]!)).toMatchObject({ reason: 'quote " backslash \\ newline \n é', closed_by: "rate limit" });
    });

    test("above info nothing is written", () => {
      const { lines, connections } = capture("warn", direct);
      connections.opened("c", "10.0.0.1", null);
      connections.closed("c", 1000, "", 1, "peer");
      expect(lines).toEqual([]);
    });
  });
}
