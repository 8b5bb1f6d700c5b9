import { describe, expect, test } from "bun:test";
import { createTickSigner } from "../common/prices/tick-signature.ts";
import { readContinuation } from "./continuation.ts";

const store = (raw: string | undefined) => ({ newest: async () => raw });
const signer = createTickSigner("s".repeat(32));

describe("readContinuation", () => {
  test("continues the newest stored tick's number and price", async () => {
    const tick = { symbol: "BTC-USD" as const, price: 41_544.09, ts: 1_000, seq: 77 };
    expect(await readContinuation(store(JSON.stringify(tick)))).toEqual({ firstSeq: 78, price: 41_544.09, from: tick });
  });

  test("with a key, only a tick signed by it is continued", async () => {
    const tick = { symbol: "BTC-USD" as const, price: 41_544.09, ts: 1_000, seq: 77 };
    const signed = { ...tick, sig: signer.sign(tick) };
    expect((await readContinuation(store(JSON.stringify(signed)), signer)).firstSeq).toBe(78);
    expect(await readContinuation(store(JSON.stringify(tick)), signer)).toEqual({});
    expect(await readContinuation(store(JSON.stringify({ ...signed, price: 1 })), signer)).toEqual({});
  });

  test("starts afresh on an empty history, an unnumbered tick or a malformed one", async () => {
    for (const raw of [undefined, '{"symbol":"BTC-USD","price":1,"ts":5}', "42000", "{", '{"price":-1,"ts":1,"seq":2}']) {
      expect(await readContinuation(store(raw))).toEqual({});
    }
  });
});
