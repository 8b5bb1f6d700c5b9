import { describe, expect, test } from "bun:test";
import { openStore } from "../../common/store/sqlite.ts";
import { createPlayerStore } from "./player-store.ts";
import { createRecoveryCodes, newRecoveryCode, normalizeRecoveryCode } from "./recovery-codes.ts";

const SECRET = "recovery-test-secret-0123456789abcdef";

function store() {
  const db = openStore(":memory:");
  const players = createPlayerStore(db);
  players.create("p1", 100_000, 1);
  players.create("p2", 100_000, 1);
  return { db, codes: createRecoveryCodes(db, { secret: SECRET }) };
}

describe("newRecoveryCode", () => {
  test("is five groups of four symbols of Crockford's base32, different each time", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const code = newRecoveryCode();
      expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){4}$/);
      seen.add(code);
    }
    expect(seen.size).toBe(1000);
  });
});

describe("normalizeRecoveryCode", () => {
  test("ignores case, spaces and dashes, and reads O, I and L as digits", () => {
    expect(normalizeRecoveryCode(" 7k3m-q9xa 2b8d-w4tz-h6np ")).toBe("7K3MQ9XA2B8DW4TZH6NP");
    expect(normalizeRecoveryCode("OIL0")).toBe("0110");
  });
});

describe("createRecoveryCodes", () => {
  test("a code names its player once, then is gone", () => {
    const { codes } = store();
    const code = codes.issue("p1", 10);
    expect(codes.redeem(code)).toBe("p1");
    expect(codes.redeem(code)).toBeUndefined();
  });

  test("a code typed in lower case with spaces still works", () => {
    const { codes } = store();
    const code = codes.issue("p1", 10);
    expect(codes.redeem(code.toLowerCase().replaceAll("-", " "))).toBe("p1");
  });

  test("a wrong code names no one", () => {
    const { codes } = store();
    codes.issue("p1", 10);
    expect(codes.redeem(newRecoveryCode())).toBeUndefined();
    expect(codes.redeem("")).toBeUndefined();
  });

  test("a new code replaces the player's earlier one", () => {
    const { codes } = store();
    const first = codes.issue("p1", 10);
    const second = codes.issue("p1", 20);
    expect(codes.redeem(first)).toBeUndefined();
    expect(codes.redeem(second)).toBe("p1");
  });

  test("only an HMAC of the code is stored, and another secret cannot redeem it", () => {
    const { db, codes } = store();
    const code = codes.issue("p2", 10);
    const rows = db.query("SELECT * FROM recovery_codes").all() as { code_hash: string }[];
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(normalizeRecoveryCode(code));
    expect(rows[0]!.code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(createRecoveryCodes(db, { secret: "another-secret-0123456789abcdef-01" }).redeem(code)).toBeUndefined();
    expect(codes.redeem(code)).toBe("p2");
  });
});
