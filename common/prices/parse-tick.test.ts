import { describe, expect, test } from "bun:test";
import { parseTickMessage } from "./parse-tick.ts";

describe("parseTickMessage", () => {
  test("reads the JSON tick with its own time", () => {
    expect(parseTickMessage('{"symbol":"BTC-USD","price":42012.5,"ts":1700000000000}', 1)).toEqual({
      symbol: "BTC-USD",
      price: 42012.5,
      ts: 1700000000000,
    });
  });
  test("reads the original plan's plain price string, stamped on receipt", () => {
    expect(parseTickMessage("42012.34", 1234)).toEqual({ symbol: "BTC-USD", price: 42012.34, ts: 1234 });
    expect(parseTickMessage(" 42012 ", 5)).toEqual({ symbol: "BTC-USD", price: 42012, ts: 5 });
  });
  test("drops everything else", () => {
    for (const bad of ["", "abc", "-1", "0", "1e5", "{", '{"price":"1","ts":1}', '{"price":-1,"ts":1}', '{"symbol":"ETH-USD","price":1,"ts":1}', "[1]", "null"]) {
      expect(parseTickMessage(bad, 1)).toBeUndefined();
    }
  });
  test("drops extra fields so readers see only the contract", () => {
    expect(parseTickMessage('{"price":1,"ts":2,"evil":"x"}', 0)).toEqual({ symbol: "BTC-USD", price: 1, ts: 2 });
  });
});
