import { describe, expect, test } from "bun:test";
import type { Database } from "bun:sqlite";
import { openTempStore } from "../../test/support/temp-db.ts";
import { DAY, DAY_START, seedBooks } from "./_books-fixture.ts";
import { auditBooks } from "./audit.ts";

const TIMEOUT = 60_000;
/** Before every window of the seed ends: nothing can be overdue yet. */
const EARLY = DAY_START - DAY;

/** The first bet of a status, as stored. */
const betOf = (db: Database, status: string) =>
  db.query("SELECT id, player_id, stake_cents, multiplier_centi, t_end FROM bets WHERE status = ?1 ORDER BY id LIMIT 1").get(status) as {
    id: string;
    player_id: string;
    stake_cents: number;
    multiplier_centi: number;
    t_end: number;
  };
const credit = (db: Database, player: string, kind: string, cents: number, bet: string) =>
  db.query("INSERT INTO ledger (player_id, kind, amount_cents, bet_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)").run(player, kind, cents, bet, DAY_START);
const failedChecks = (db: Database, now = EARLY) => {
  const audit = auditBooks(db, { now, settleTimeoutMs: TIMEOUT });
  return { ok: audit.ok, failed: (["balances", "stakes", "settlements", "overdue"] as const).filter((name) => audit[name].failed > 0) };
};

describe("auditBooks", () => {
  test("books made by the real stores pass, every check having looked at every row", () => {
    using db = openTempStore();
    const seeded = seedBooks(db, 7);
    const audit = auditBooks(db, { now: EARLY, settleTimeoutMs: TIMEOUT });
    expect(audit.ok).toBe(true);
    expect(audit.balances).toEqual({ checked: seeded.players.length, failed: 0, examples: [] });
    expect(audit.stakes).toEqual({ checked: seeded.bets.length, failed: 0, examples: [] });
    expect(audit.settlements).toEqual({ checked: seeded.bets.filter((b) => b.outcome !== "open").length, failed: 0, examples: [] });
    expect(audit.overdue).toEqual({ checked: seeded.bets.filter((b) => b.outcome === "open").length, failed: 0, examples: [] });
  });

  test("a balance changed outside the ledger fails the balance check, naming the player", () => {
    using db = openTempStore();
    seedBooks(db, 7);
    db.query("UPDATE players SET balance_cents = balance_cents + 1 WHERE id = 'p2'").run();
    const audit = auditBooks(db, { now: EARLY, settleTimeoutMs: TIMEOUT });
    expect(failedChecks(db)).toEqual({ ok: false, failed: ["balances"] });
    expect(audit.balances.examples).toEqual([{ id: "p2", problem: expect.stringMatching(/^balance \d+, ledger \d+$/) }]);
  });

  test("a won bet with no payout, or paid other than stake × multiplier, fails the settlement check", () => {
    using db = openTempStore();
    seedBooks(db, 8);
    const open = betOf(db, "open");
    const owed = Math.floor((open.stake_cents * open.multiplier_centi) / 100);
    db.query("UPDATE bets SET status = 'won', payout_cents = ?2 WHERE id = ?1").run(open.id, owed);
    expect(failedChecks(db)).toEqual({ ok: false, failed: ["settlements"] });
    credit(db, open.player_id, "payout", owed + 1, open.id);
    const audit = auditBooks(db, { now: EARLY, settleTimeoutMs: TIMEOUT });
    expect(audit.settlements.examples).toEqual([{ id: open.id, problem: `won ${owed} (stake × multiplier), payout_cents ${owed}, credited ${owed + 1}` }]);
    expect(audit.balances.failed).toBe(0); // the trigger moved the balance with the credit
  });

  test("a credit for a lost bet, a void bet refunded short, or a credit to another player each fail the settlement check", () => {
    using db = openTempStore();
    seedBooks(db, 9);
    const lost = betOf(db, "lost");
    credit(db, lost.player_id, "refund", lost.stake_cents, lost.id);
    const audit = auditBooks(db, { now: EARLY, settleTimeoutMs: TIMEOUT });
    expect(audit.settlements.examples.map((e) => e.id)).toEqual([lost.id]);

    const open = betOf(db, "open");
    db.query("UPDATE bets SET status = 'void' WHERE id = ?1").run(open.id);
    credit(db, open.player_id, "refund", open.stake_cents - 1, open.id);
    const another = db.query("SELECT id FROM bets WHERE status = 'open' AND player_id != ?1 ORDER BY id LIMIT 1").get(open.player_id) as { id: string };
    db.query("UPDATE bets SET status = 'void' WHERE id = ?1").run(another.id);
    const stake = (db.query("SELECT stake_cents FROM bets WHERE id = ?1").get(another.id) as { stake_cents: number }).stake_cents;
    credit(db, open.player_id, "refund", stake, another.id);
    const again = auditBooks(db, { now: EARLY, settleTimeoutMs: TIMEOUT });
    expect(again.settlements.failed).toBe(3);
    expect(again.settlements.examples.map((e) => e.id).sort()).toEqual([lost.id, open.id, another.id].sort());
    expect(again.settlements.examples.find((e) => e.id === another.id)?.problem).toStartWith("a credit went to another player");
    expect(failedChecks(db)).toEqual({ ok: false, failed: ["settlements"] });
  });

  test("a bet written without its stake debit fails the stake check", () => {
    using db = openTempStore();
    seedBooks(db, 10);
    db.query(
      `INSERT INTO bets (id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi, created_at, balance_after_cents)
       VALUES ('unpaid', 'p1', 500, ?1, ?2, 4200000, 4201000, 200, ?1, 0)`,
    ).run(DAY_START, DAY_START + 5000);
    const audit = auditBooks(db, { now: EARLY, settleTimeoutMs: TIMEOUT });
    expect(failedChecks(db)).toEqual({ ok: false, failed: ["stakes"] });
    expect(audit.stakes.examples).toEqual([{ id: "unpaid", problem: "stake 500: 0 stake entries (none)" }]);
  });

  test("open bets past their window plus SETTLE_TIMEOUT_MS are overdue; those within it are not", () => {
    using db = openTempStore();
    const seeded = seedBooks(db, 11);
    const now = DAY_START + DAY / 2;
    const audit = auditBooks(db, { now, settleTimeoutMs: TIMEOUT, examples: 3 });
    const overdue = seeded.bets.filter((b) => b.outcome === "open" && b.tEnd + TIMEOUT < now);
    expect(overdue.length).toBeGreaterThan(3);
    expect(seeded.bets.some((b) => b.outcome === "open" && b.tEnd + TIMEOUT >= now)).toBe(true);
    expect(audit.overdue.failed).toBe(overdue.length);
    const firstThree = overdue.sort((a, b) => a.tEnd - b.tEnd || a.id.localeCompare(b.id)).slice(0, 3);
    expect(audit.overdue.examples.map((e) => e.id)).toEqual(firstThree.map((b) => b.id));
    expect(audit.ok).toBe(false);
  });

  test("examples are capped, the count is not", () => {
    using db = openTempStore();
    seedBooks(db, 12);
    db.query("UPDATE players SET balance_cents = balance_cents + 7").run();
    const audit = auditBooks(db, { now: EARLY, settleTimeoutMs: TIMEOUT, examples: 2 });
    expect({ failed: audit.balances.failed, listed: audit.balances.examples.length }).toEqual({ failed: 6, listed: 2 });
  });
});
