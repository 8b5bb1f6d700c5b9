import { expect, test } from "bun:test";
import { createBufferedSink } from "./log.ts";

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
