import { expect, test } from "bun:test";
import { checkConnectionLimits, openFilesLimit } from "./limits.ts";

test("reads the open-files limit and flags a client count above it", () => {
  const limit = openFilesLimit();
  expect(limit).toBeGreaterThan(0);
  expect(checkConnectionLimits(10, 2)).toEqual([]);
  if (Number.isFinite(limit)) expect(checkConnectionLimits(limit, 1).join()).toContain("ulimit -n");
});
