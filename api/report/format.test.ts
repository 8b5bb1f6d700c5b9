import { describe, expect, test } from "bun:test";
import { openTempStore } from "../../test/support/temp-db.ts";
import { DAY, DAY_START, seedBooks } from "./_books-fixture.ts";
import { auditBooks } from "./audit.ts";
import { readBooks } from "./books.ts";
import { formatCents, formatReport, type Report } from "./format.ts";

function report(corrupt = false): Report {
  using db = openTempStore();
  seedBooks(db, 21);
  if (corrupt) db.query("UPDATE players SET balance_cents = balance_cents - 3 WHERE id = 'p4'").run();
  const range = { from: DAY_START, to: DAY_START + DAY };
  return {
    db: "/data/bets.db",
    generated_at: "2026-12-03T00:05:00.000Z",
    range,
    books: readBooks(db, range, { houseEdge: 0.05, top: 3 }),
    audit: auditBooks(db, { now: DAY_START - DAY, settleTimeoutMs: 60_000 }),
  };
}

describe("formatCents", () => {
  test("dollars with separators and two places, the sign in front", () => {
    expect([formatCents(0), formatCents(7), formatCents(123_456), formatCents(-5), formatCents(100_000_000_00)]).toEqual(["$0.00", "$0.07", "$1,234.56", "-$0.05", "$100,000,000.00"]);
  });
});

describe("formatReport", () => {
  test("shows the day, each money figure, both returns, every outcome, the top windows and a passed audit", () => {
    const r = report();
    const text = formatReport(r);
    expect(text).toContain("tap-trading books for 2026-12-02 (UTC)");
    for (const [label, cents] of [
      ["stakes", r.books.money.stakes_cents],
      ["payouts", r.books.money.payouts_cents],
      ["refunds", r.books.money.refunds_cents],
      ["house net", r.books.money.house_net_cents],
    ] as const) {
      expect(text).toMatch(new RegExp(`\\n  ${label} +${formatCents(cents).replace("$", "\\$")}\\n`));
    }
    expect(text).toContain(`realised      ${(r.books.return_to_player.realised! * 100).toFixed(2)} %`);
    expect(text).toContain("theoretical   95.00 %   (1 - HOUSE_EDGE 0.05)");
    for (const status of ["open", "won", "lost", "void"] as const) {
      expect(text).toMatch(new RegExp(`\\n  ${status} +${r.books.outcomes[status].bets} `));
    }
    expect(r.books.top_windows).toHaveLength(3);
    const first = r.books.top_windows[0]!;
    expect(text).toContain(`${new Date(first.t_start).toISOString().slice(11, 19)}-${new Date(first.t_end).toISOString().slice(11, 19)}`);
    expect(text).toContain(formatCents(first.potential_payout_cents));
    expect(text).toMatch(/: PASSED\n/);
    expect(text).not.toContain("FAIL ");
  });

  test("shows the return by distance from the price: its heading, then a row per distance with bets, staked, paid and the realised return", () => {
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\$]/g, "\\$&");
    /** The table row the report should print for a distance, worked out from its cents. */
    const row = (away: string, bets: number, stake: number, payout: number) =>
      new RegExp(`^  ${escape(away)} +${bets} +${escape(formatCents(stake))} +${escape(formatCents(payout))} +${((payout / stake) * 100).toFixed(2)} %$`, "m");
    const heading = "Return by distance from the price (bands between the bet's band and the price's when it was taken)";
    const r = report();
    const text = formatReport(r);
    expect(text).toContain(`\n${heading}\n  bands away`);
    // The seeded bets were taken without a price on record: one row, "unknown".
    expect(r.books.return_by_distance).toHaveLength(1);
    const unknown = r.books.return_by_distance[0]!;
    expect(unknown.bands_away).toBeNull();
    expect(text).toMatch(row("unknown", unknown.bets, unknown.stake_cents, unknown.payout_cents));
    // Known distances, near to far, each on its own row after the heading.
    const byDistance = [
      { bands_away: 0, bets: 40, stake_cents: 20_000, payout_cents: 18_950, realised: 18_950 / 20_000 },
      { bands_away: 7, bets: 3, stake_cents: 1_500, payout_cents: 0, realised: 0 },
    ];
    const distances = formatReport({ ...r, books: { ...r.books, return_by_distance: byDistance } });
    const section = distances.slice(distances.indexOf(heading));
    expect(section).toMatch(row("0", 40, 20_000, 18_950));
    expect(section).toMatch(row("7", 3, 1_500, 0));
    expect(formatReport({ ...r, books: { ...r.books, return_by_distance: [] } })).toContain(`${heading}\n  no settled bets\n`);
  });

  test("a failed audit says FAILED and names what is wrong", () => {
    const text = formatReport(report(true));
    expect(text).toMatch(/: FAILED\n/);
    expect(text).toMatch(/FAIL {2}every balance equals its ledger \(6 players, 1 wrong\)\n {10}p4: balance \d+, ledger \d+\n/);
  });
});
