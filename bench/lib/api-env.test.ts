import { expect, test } from "bun:test";
import { parseApiEnv } from "./api-env.ts";

test("--api-env pairs become settings; a pair without a name is refused", () => {
  expect(parseApiEnv("DB_SYNC=normal, PG_BATCHES_IN_FLIGHT=2")).toEqual({ DB_SYNC: "normal", PG_BATCHES_IN_FLIGHT: "2" });
  expect(parseApiEnv("")).toEqual({});
  expect(parseApiEnv("A=x=y")).toEqual({ A: "x=y" });
  expect(() => parseApiEnv("=normal")).toThrow("--api-env takes KEY=VALUE pairs");
  expect(() => parseApiEnv("DB_SYNC")).toThrow("--api-env takes KEY=VALUE pairs");
});
