/**
 * The store seam's behaviour suite on SQLite (a real file in a temp folder per
 * case): today's modules behind the async `Store`.
 */
import { setDefaultTimeout } from "bun:test";
import { createSqliteStore } from "../api/store/sqlite-store.ts";
import { describeStoreBehaviour, type MoneyTables } from "../api/store/store.behaviour.ts";
import { openTempStore } from "./support/temp-db.ts";

setDefaultTimeout(30_000);

describeStoreBehaviour("the SQLite store", async (options) => {
  const db = openTempStore();
  return {
    store: createSqliteStore(db, options),
    tables: async (): Promise<MoneyTables> => ({
      players: db.query("SELECT id, balance_cents FROM players").all() as MoneyTables["players"],
      ledger: db.query("SELECT player_id, kind, amount_cents, bet_id FROM ledger").all() as MoneyTables["ledger"],
      bets: db.query("SELECT id, player_id, stake_cents, multiplier_centi, status, payout_cents FROM bets").all() as MoneyTables["bets"],
    }),
    close: async () => db[Symbol.dispose](),
  };
});
