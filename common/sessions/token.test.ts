import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { createSessionTokens } from "./token.ts";

const secret = "s".repeat(32);
const tokens = createSessionTokens(secret);
const now = 1_700_000_000_000;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

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

  test("only the canonical base64url spelling of each part is accepted", () => {
    // A part whose bit length is not a multiple of 6 ends in a character with unused low bits:
    // the decoder ignores them, so other characters there decode to the same bytes.
    const spellings = (part: string) => {
      const bytes = Buffer.from(part, "base64url");
      return [...ALPHABET].map((c) => part.slice(0, -1) + c).filter((p) => p !== part && Buffer.from(p, "base64url").equals(bytes));
    };
    const token = tokens.sign({ sub: "p_abc", exp: now + 1000 });
    const [payload, signature] = token.split(".") as [string, string];
    expect(tokens.verify(token, now)).toEqual({ sub: "p_abc", exp: now + 1000 });
    const signatures = spellings(signature);
    expect(signatures).toHaveLength(3); // 43 characters carry 258 bits for 256
    for (const other of signatures) expect(tokens.verify(`${payload}.${other}`, now)).toBeUndefined();

    // The payload's other spellings, each signed as it stands, so only its encoding is wrong.
    const sub = ["p_a", "p_ab", "p_abc"].find((s) => tokens.sign({ sub: s, exp: now + 1000 }).split(".")[0]!.length % 4 !== 0)!;
    const canonical = tokens.sign({ sub, exp: now + 1000 }).split(".")[0]!;
    const payloads = spellings(canonical);
    expect(payloads.length).toBeGreaterThan(0);
    const signed = (part: string) => `${part}.${createHmac("sha256", secret).update(part).digest("base64url")}`;
    expect(tokens.verify(signed(canonical), now)).toEqual({ sub, exp: now + 1000 });
    for (const other of payloads) expect(tokens.verify(signed(other), now)).toBeUndefined();
  });

  test("garbage is refused without throwing", () => {
    for (const bad of ["", ".", "a.b", "x".repeat(5000), "a.b.c", "€.€"]) expect(tokens.verify(bad, now)).toBeUndefined();
  });

  test("a short secret is a start-up error", () => {
    expect(() => createSessionTokens("short")).toThrow(RangeError);
  });
});
