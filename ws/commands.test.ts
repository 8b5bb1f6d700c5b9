import { describe, expect, test } from "bun:test";
import { readMessage } from "./commands.ts";

describe("readMessage", () => {
  test("reads the commands", () => {
    expect(readMessage('{"type":"ping"}')).toEqual({ kind: "command", command: { type: "ping" } });
    expect(readMessage(' {"type":"subscribe","channel":"prices"}')).toEqual({
      kind: "command",
      command: { type: "subscribe", channel: "prices" },
    });
    expect(readMessage('{"type":"unsubscribe","channel":"nope"}')).toEqual({
      kind: "command",
      command: { type: "unsubscribe", channel: "nope" },
    });
  });

  test("a command type with a bad shape is malformed, not echoed", () => {
    expect(readMessage('{"type":"subscribe"}')).toEqual({ kind: "malformed", type: "subscribe" });
    expect(readMessage('{"type":"unsubscribe","channel":5}')).toEqual({ kind: "malformed", type: "unsubscribe" });
  });

  test("everything else is not a command", () => {
    for (const text of ["", "hello", "{", '{"type":"ping"', "[1]", "null", '{"type":"price"}', '{"type":1}', '{"kind":"ping"}']) {
      expect(readMessage(text)).toEqual({ kind: "other" });
    }
  });
});
