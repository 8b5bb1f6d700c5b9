/**
 * Versioned schema changes, applied in order at start. Never edit a shipped
 * migration: add the next version. `PRAGMA user_version` records the last applied.
 *
 * ```ts
 * const next: Migration = { version: 5, name: "players' display names", sql: "ALTER TABLE players ADD COLUMN name TEXT;" };
 * ```
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Rebuilds a table others reference: run with foreign keys off, then checked. */
  rebuildsTables?: boolean;
}

/**
 * Every migration of the bets database, oldest first; `openStore` applies
 * those newer than the file's `user_version`.
 *
 * ```ts
 * const db = openStore("/data/bets.db", { migrations });
 * ```
 */
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
  {
    version: 2,
    name: "players, the money ledger and priced bets",
    sql: `
      -- The thin thread's unpriced bets have no player or money behind them: kept, renamed, never read.
      DROP INDEX bets_user;
      ALTER TABLE bets RENAME TO legacy_bets;

      CREATE TABLE players (
        id            TEXT    PRIMARY KEY,
        created_at    INTEGER NOT NULL,
        -- Kept equal to the sum of the player's ledger entries by the trigger below; never negative.
        balance_cents INTEGER NOT NULL DEFAULT 0 CHECK (balance_cents >= 0)
      ) STRICT;

      CREATE TABLE bets (
        id               TEXT    PRIMARY KEY,
        player_id        TEXT    NOT NULL REFERENCES players (id),
        stake_cents      INTEGER NOT NULL CHECK (stake_cents > 0),
        t_start          INTEGER NOT NULL,
        t_end            INTEGER NOT NULL CHECK (t_end > t_start),
        price_low_cents  INTEGER NOT NULL CHECK (price_low_cents > 0),
        price_high_cents INTEGER NOT NULL CHECK (price_high_cents > price_low_cents),
        -- The multiplier in hundredths (2.35x = 235), fixed at acceptance.
        multiplier_centi INTEGER NOT NULL CHECK (multiplier_centi >= 101),
        status           TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost', 'void')),
        payout_cents     INTEGER NOT NULL DEFAULT 0 CHECK (payout_cents >= 0),
        created_at       INTEGER NOT NULL,
        settled_at       INTEGER,
        -- The player's balance right after the stake: a retried request gets the first answer again.
        balance_after_cents INTEGER NOT NULL CHECK (balance_after_cents >= 0),
        idempotency_key  TEXT
      ) STRICT, WITHOUT ROWID;
      -- Ids are time-ordered (UUIDv7), so the table itself grows at its end.
      CREATE INDEX bets_player ON bets (player_id, id);
      CREATE UNIQUE INDEX bets_idempotency ON bets (player_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
      CREATE INDEX bets_open_by_end ON bets (t_end) WHERE status = 'open';

      -- Append-only: every movement of money, signed (credits > 0, stakes < 0).
      CREATE TABLE ledger (
        id           INTEGER PRIMARY KEY,
        player_id    TEXT    NOT NULL REFERENCES players (id),
        kind         TEXT    NOT NULL CHECK (kind IN ('grant', 'stake', 'payout', 'refund')),
        amount_cents INTEGER NOT NULL CHECK (amount_cents != 0 AND (kind = 'stake') = (amount_cents < 0)),
        bet_id       TEXT    REFERENCES bets (id),
        created_at   INTEGER NOT NULL,
        CHECK ((kind = 'grant') = (bet_id IS NULL))
      ) STRICT;
      -- At most one stake and one settlement credit per bet.
      CREATE UNIQUE INDEX ledger_bet_stake ON ledger (bet_id) WHERE kind = 'stake';
      CREATE UNIQUE INDEX ledger_bet_credit ON ledger (bet_id) WHERE kind IN ('payout', 'refund');

      CREATE TRIGGER ledger_moves_balance AFTER INSERT ON ledger
      BEGIN
        UPDATE players SET balance_cents = balance_cents + NEW.amount_cents WHERE id = NEW.player_id;
      END;
      CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
      BEGIN
        SELECT RAISE(ABORT, 'ledger is append-only');
      END;
      CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
      BEGIN
        SELECT RAISE(ABORT, 'ledger is append-only');
      END;
    `,
  },
  {
    version: 3,
    name: "bets stored by window",
    rebuildsTables: true,
    sql: `
      -- Settlement reads and writes a window's bets together (a closing window loses all
      -- its untouched bets at once), so the table is ordered by window end, then id: those
      -- rows share pages instead of being spread over the whole table. Open bets are
      -- found by that order, so the partial index on t_end goes.
      CREATE TABLE bets_by_window (
        id               TEXT    NOT NULL,
        player_id        TEXT    NOT NULL REFERENCES players (id),
        stake_cents      INTEGER NOT NULL CHECK (stake_cents > 0),
        t_start          INTEGER NOT NULL,
        t_end            INTEGER NOT NULL CHECK (t_end > t_start),
        price_low_cents  INTEGER NOT NULL CHECK (price_low_cents > 0),
        price_high_cents INTEGER NOT NULL CHECK (price_high_cents > price_low_cents),
        multiplier_centi INTEGER NOT NULL CHECK (multiplier_centi >= 101),
        status           TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost', 'void')),
        payout_cents     INTEGER NOT NULL DEFAULT 0 CHECK (payout_cents >= 0),
        created_at       INTEGER NOT NULL,
        settled_at       INTEGER,
        balance_after_cents INTEGER NOT NULL CHECK (balance_after_cents >= 0),
        idempotency_key  TEXT,
        PRIMARY KEY (t_end, id)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO bets_by_window (id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi,
                                  status, payout_cents, created_at, settled_at, balance_after_cents, idempotency_key)
        SELECT id, player_id, stake_cents, t_start, t_end, price_low_cents, price_high_cents, multiplier_centi,
               status, payout_cents, created_at, settled_at, balance_after_cents, idempotency_key FROM bets;
      DROP TABLE bets;
      ALTER TABLE bets_by_window RENAME TO bets;
      -- Ids stay unique: the ledger refers to bets by id.
      CREATE UNIQUE INDEX bets_id ON bets (id);
      CREATE INDEX bets_player ON bets (player_id, id);
      CREATE UNIQUE INDEX bets_idempotency ON bets (player_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
    `,
  },
  {
    version: 4,
    name: "the ticks settlement judged",
    sql: `
      -- Every tick the API judged bets on, in order, written in the same transaction as
      -- the settlements it caused: Redis keeps the live history only for an hour (and
      -- nothing across a restart), so this is what a settlement is recomputed from later.
      CREATE TABLE ticks (
        ts          INTEGER PRIMARY KEY,          -- the tick's own time, ms since the epoch
        seq         INTEGER,                      -- the publisher's number (NULL only for an unsigned tick without one)
        price       REAL    NOT NULL CHECK (price > 0),
        price_cents INTEGER NOT NULL,             -- what settlement compares with the bands
        sig         TEXT,                         -- the publisher's signature, when signing is on
        continuous  INTEGER NOT NULL CHECK (continuous IN (0, 1)), -- 0: a break lies before this tick
        received_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 5,
    name: "the quote a bet was placed from",
    sql: `
      -- Slippage protection (docs/rules.md): the quote the player bet from, for audit, and the lowest
      -- multiplier they accepted; a bet is never accepted below it.
      ALTER TABLE bets ADD COLUMN quote_id TEXT;
      ALTER TABLE bets ADD COLUMN min_multiplier_centi INTEGER
        CHECK (min_multiplier_centi IS NULL OR (min_multiplier_centi >= 101 AND min_multiplier_centi <= multiplier_centi));
    `,
  },
  {
    version: 6,
    name: "recovery codes, nicknames and the leaderboard's index",
    sql: `
      -- IF NOT EXISTS: the API created these itself at start before this migration was numbered.
      -- One recovery code per player: only an HMAC of it, looked up by that HMAC.
      CREATE TABLE IF NOT EXISTS recovery_codes (
        player_id  TEXT    PRIMARY KEY REFERENCES players (id),
        code_hash  TEXT    NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      -- Names shown on the leaderboard; unique regardless of (ASCII) case.
      CREATE TABLE IF NOT EXISTS nicknames (
        player_id TEXT    PRIMARY KEY REFERENCES players (id),
        nickname  TEXT    NOT NULL COLLATE NOCASE UNIQUE CHECK (length(nickname) BETWEEN 3 AND 20),
        set_at    INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID;

      -- The day's won and lost bets in settlement order, with every column the leaderboard
      -- reads: it sums them from this index alone, never the table.
      CREATE INDEX IF NOT EXISTS bets_settled ON bets (settled_at, player_id, stake_cents, payout_cents, status) WHERE status IN ('won', 'lost');
    `,
  },
];
