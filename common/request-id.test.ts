import { expect, test } from "bun:test";
import { requestIdFor } from "./request-id.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

test("a sane caller's id is kept", () => {
  for (const id of ["trace-abc.123", "a:b_c", "x".repeat(128)]) expect(requestIdFor(id)).toBe(id);
});

test("no id, or one that is long or not plain, gets a new UUIDv7", () => {
  for (const header of [null, "", "bad id with spaces", "x".repeat(129), "quote\"", "é"]) expect(requestIdFor(header)).toMatch(UUID);
});
