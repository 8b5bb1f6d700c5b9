import type { Database } from "bun:sqlite";
import type { NewBet } from "./service.ts";

/** Bets in SQLite. `insertMany` writes a whole batch in one transaction: one fsync-able commit. */
export function createBetRepository(db: Database) {
  const insert = db.prepare(
    `INSERT INTO bets (id, user_id, amount_cents, t_start, t_end, price_low_cents, price_high_cents, status, created_at)
     VALUES ($id, $userId, $amountCents, $tStart, $tEnd, $priceLowCents, $priceHighCents, 'accepted', $createdAt)`,
  );
  const insertMany = db.transaction((bets: readonly NewBet[]) => {
    for (const bet of bets) insert.run({ ...bet });
  });
  const count = db.prepare("SELECT count(*) AS n FROM bets");
  return {
    insertMany(bets: readonly NewBet[]): void {
      insertMany(bets);
    },
    count(): number {
      return (count.get() as { n: number }).n;
    },
  };
}

export type BetRepository = ReturnType<typeof createBetRepository>;
