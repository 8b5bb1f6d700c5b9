import { describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Nickname } from "../../common/contracts/leaderboard.ts";
import { migrations } from "../../common/store/migrations.ts";
import { openStore } from "../../common/store/sqlite.ts";
import { createNicknames } from "./nicknames.ts";
import { createPlayerStore } from "./player-store.ts";

function store() {
  const db = openStore(":memory:");
  const players = createPlayerStore(db);
  for (const id of ["p1", "p2"]) players.create(id, 100_000, 1);
  return createNicknames(db);
}

describe("Nickname", () => {
  test("takes 3 to 20 ASCII letters, digits, spaces, _ and -, not starting or ending with a space", () => {
    for (const ok of ["abc", "Satoshi 42", "a_b-c", "x".repeat(20), "-_-", "a b"]) expect(Value.Check(Nickname, ok)).toBe(true);
    for (const bad of ["ab", "x".repeat(21), " abc", "abc ", "a@b.c", "zoë", "a\tb", "<b>x</b>", "", "a\nb"]) {
      expect(Value.Check(Nickname, bad)).toBe(false);
    }
  });
});

describe("createNicknames", () => {
  test("a player sets and changes their nickname", () => {
    const names = store();
    expect(names.get("p1")).toBeUndefined();
    expect(names.set("p1", "alice", 1)).toBe("ok");
    expect(names.get("p1")).toBe("alice");
    expect(names.set("p1", "Alice B", 2)).toBe("ok");
    expect(names.get("p1")).toBe("Alice B");
  });

  test("another player's nickname, in any case, is taken; one's own in another case is not", () => {
    const names = store();
    names.set("p1", "alice", 1);
    expect(names.set("p2", "ALICE", 2)).toBe("taken");
    expect(names.get("p2")).toBeUndefined();
    expect(names.set("p1", "ALICE", 3)).toBe("ok");
  });
});

describe("migration 6", () => {
  test("applies over a database whose API made its tables at start before the migration was numbered", () => {
    const dir = mkdtempSync(join(tmpdir(), "tap-migration6-"));
    try {
      const path = join(dir, "bets.db");
      const before = openStore(path, { migrations: migrations.filter((m) => m.version <= 5) });
      before.exec(migrations.find((m) => m.version === 6)!.sql);
      createPlayerStore(before).create("p1", 100_000, 1);
      createNicknames(before).set("p1", "alice", 1);
      before.close();
      const db = openStore(path);
      expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: 6 });
      expect(createNicknames(db).get("p1")).toBe("alice");
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
