/**
 * Versioned schema changes, applied in order at start. Never edit a shipped
 * migration: add the next version. `PRAGMA user_version` records the last applied.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "bets and health probe",
    sql: `
      CREATE TABLE bets (
        id               TEXT    PRIMARY KEY,
        user_id          TEXT    NOT NULL,
        amount_cents     INTEGER NOT NULL CHECK (amount_cents > 0),
        t_start          INTEGER NOT NULL,
        t_end            INTEGER NOT NULL CHECK (t_end > t_start),
        price_low_cents  INTEGER NOT NULL,
        price_high_cents INTEGER NOT NULL CHECK (price_high_cents > price_low_cents),
        status           TEXT    NOT NULL CHECK (status IN ('accepted')),
        created_at       INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX bets_user ON bets (user_id, created_at);

      -- One row that /readyz overwrites and reads back: a real write on every probe.
      CREATE TABLE health_probe (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        token      TEXT    NOT NULL,
        checked_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
];
