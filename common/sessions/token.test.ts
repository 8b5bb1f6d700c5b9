import { describe, expect, test } from "bun:test";
import { createSessionTokens } from "./token.ts";

const secret = "s".repeat(32);
const tokens = createSessionTokens(secret);
const now = 1_700_000_000_000;

describe("session tokens", () => {
  test("a signed token verifies to its claims until it expires", () => {
    const token = tokens.sign({ sub: "p_abc", exp: now + 1000 });
    expect(tokens.verify(token, now)).toEqual({ sub: "p_abc", exp: now + 1000 });
    expect(tokens.verify(token, now + 1000)).toBeUndefined();
  });

  test("a token signed with another secret, or altered, is refused", () => {
    const token = tokens.sign({ sub: "p_abc", exp: now + 1000 });
    expect(createSessionTokens("t".repeat(32)).verify(token, now)).toBeUndefined();
    const [payload, signature] = token.split(".") as [string, string];
    const forged = Buffer.from(JSON.stringify({ sub: "p_other", exp: now + 1000 })).toString("base64url");
    expect(tokens.verify(`${forged}.${signature}`, now)).toBeUndefined();
    expect(tokens.verify(`${payload}.${signature.slice(0, -1)}A`, now)).toBeUndefined();
  });

  test("garbage is refused without throwing", () => {
    for (const bad of ["", ".", "a.b", "x".repeat(5000), "a.b.c", "€.€"]) expect(tokens.verify(bad, now)).toBeUndefined();
  });

  test("a short secret is a start-up error", () => {
    expect(() => createSessionTokens("short")).toThrow(RangeError);
  });
});
