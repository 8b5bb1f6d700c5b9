import { expect, test } from "bun:test";
import { listOf, positiveInt } from "./args.ts";

test("a positive integer is read; anything else is refused naming the flag", () => {
  expect(positiveInt("rounds", "3")).toBe(3);
  for (const raw of ["0", "-1", "1.5", "x", ""]) expect(() => positiveInt("rounds", raw)).toThrow(/--rounds must be a positive integer/);
});

test("a list keeps known items in order and refuses an unknown one naming the flag", () => {
  expect(listOf("servers", "go, ours", ["ours", "go"] as const)).toEqual(["go", "ours"]);
  expect(() => listOf("servers", "ours,rust", ["ours", "go"] as const)).toThrow(/--servers: unknown "rust"/);
});
