import { expect, test } from "bun:test";
import { createBufferedSink, createLogger, jsonString } from "./log.ts";

test("lines are gathered and written together on flush, in order", () => {
  const writes: string[] = [];
  const sink = createBufferedSink((text) => void writes.push(text));
  sink.write("a\n");
  sink.write("b\n");
  expect(writes).toEqual([]);
  sink.flush();
  expect(writes).toEqual(["a\nb\n"]);
  sink.flush();
  expect(writes).toEqual(["a\nb\n"]);
});

test("a batch past the size bound is written at once, without waiting for the flush", () => {
  const writes: string[] = [];
  const sink = createBufferedSink((text) => void writes.push(text), { maxChars: 10 });
  sink.write("12345\n");
  expect(writes).toEqual([]);
  sink.write("67890\n");
  expect(writes).toEqual(["12345\n67890\n"]);
});

test("every flush also flushes the writer underneath", () => {
  let flushed = 0;
  const sink = createBufferedSink(() => {}, { afterFlush: () => void flushed++ });
  sink.flush();
  expect(flushed).toBe(1);
});

test("plain text is quoted as it is; anything JSON must escape goes through JSON.stringify", () => {
  for (const text of ["POST", "/api/bets", "01a2-b3", "", "/a b~!", "::ffff:127.0.0.1"]) expect(jsonString(text)).toBe(JSON.stringify(text));
  for (const text of ['/a"b', "/a\\b", "/a\nb", "/é", "/\u0000", "/\u007f"]) {
    expect(jsonString(text)).toBe(JSON.stringify(text));
    expect(JSON.parse(jsonString(text))).toBe(text);
  }
});

test("a URL's password and the given secrets never reach the sink, at any level, in the message or the fields", () => {
  const lines: string[] = [];
  const secret = "session-secret-0123456789abcdef";
  const log = createLogger({ component: "test", level: "trace", sink: { write: (line: string) => void lines.push(line) }, secrets: [secret, undefined] });
  log.trace({ redis: "redis://tap-ws:hunter2-pass@10.0.0.5:6379" }, "connecting");
  log.debug(`secret is ${secret}`);
  log.child({ role: "subscriber" }).error({ err: `failed at rediss://:p%40ss@h:6380/0 with ${secret}` }, "redis error");
  expect(lines).toHaveLength(3);
  const text = lines.join("");
  expect(text).not.toContain("hunter2-pass");
  expect(text).not.toContain("p%40ss");
  expect(text).not.toContain(secret);
  expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toMatchObject([
    { level: "trace", redis: "redis://***@10.0.0.5:6379" },
    { level: "debug", msg: "secret is ***" },
    { level: "error", role: "subscriber", err: "failed at rediss://***@h:6380/0 with ***" },
  ]);
});
