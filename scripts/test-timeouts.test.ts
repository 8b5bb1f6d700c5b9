import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const endToEnd = join(import.meta.dir, "..", "test");

test("every end-to-end test file sets its 30 s timeout, so plain bun test runs it as make test does", () => {
  const files = readdirSync(endToEnd).filter((name) => name.endsWith(".test.ts"));
  expect(files.length).toBeGreaterThan(0);
  const without = files.filter((name) => !/^setDefaultTimeout\(30_000\);$/m.test(readFileSync(join(endToEnd, name), "utf8")));
  expect(without).toEqual([]);
});
