import { expect, test } from "bun:test";
import { authCommand, PING_COMMAND, subscribeCommand } from "./client-commands.ts";

test("the frames the page sends, as the server reads them", () => {
  expect(JSON.parse(subscribeCommand("prices"))).toEqual({ type: "subscribe", channel: "prices" });
  expect(JSON.parse(subscribeCommand("grid"))).toEqual({ type: "subscribe", channel: "grid" });
  expect(JSON.parse(authCommand("t1"))).toEqual({ type: "auth", token: "t1" });
  expect(PING_COMMAND).toBe('{"type":"ping"}');
});
