import { expect, test } from "bun:test";
import { createRouteTable } from "./route-table.ts";

test("lists the methods a path answers, matching :params and a trailing slash", () => {
  const table = createRouteTable([
    { method: "GET", path: "/api/bets" },
    { method: "POST", path: "/api/bets" },
    { method: "GET", path: "/api/bets/:id" },
  ]);
  expect(table.allowedMethods("/api/bets")).toEqual(["GET", "HEAD", "POST"]);
  expect(table.allowedMethods("/api/bets/")).toEqual(["GET", "HEAD", "POST"]);
  expect(table.allowedMethods("/api/bets/abc")).toEqual(["GET", "HEAD"]);
  expect(table.allowedMethods("/api/bets/abc/def")).toEqual([]);
  expect(table.allowedMethods("/nope")).toEqual([]);
});
