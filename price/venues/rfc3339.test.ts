import { expect, test } from "bun:test";
import { rfc3339Ms } from "./rfc3339.ts";

test("RFC 3339 UTC with any number of fraction digits is read to the millisecond", () => {
  expect(rfc3339Ms("2014-11-07T08:19:28.464459Z")).toBe(Date.UTC(2014, 10, 7, 8, 19, 28, 464));
  expect(rfc3339Ms("2023-06-23T20:31:26.122969572Z")).toBe(Date.UTC(2023, 5, 23, 20, 31, 26, 122));
  expect(rfc3339Ms("2022-12-25T09:30:59Z")).toBe(Date.UTC(2022, 11, 25, 9, 30, 59));
  expect(rfc3339Ms("2022-12-25T09:30:59.1Z")).toBe(Date.UTC(2022, 11, 25, 9, 30, 59, 100));
});

test.each([["yesterday"], ["1700000000"], ["2022-12-25 09:30:59Z"], ["2022-12-25T09:30:59+01:00"], ["2022-13-45T09:30:59Z"], [1_700_000_000_000], [null], [undefined]])("%p is not a venue time", (value) => {
  expect(rfc3339Ms(value)).toBeUndefined();
});
