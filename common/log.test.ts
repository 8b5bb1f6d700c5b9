import { expect, test } from "bun:test";
import { createBufferedSink, jsonString } from "./log.ts";

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
