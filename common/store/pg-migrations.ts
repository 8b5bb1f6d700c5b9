/**
 * One versioned schema change for PostgreSQL, applied in order at start by
 * `migratePostgres`. Never edit a shipped migration: add the next version.
 * The `schema_version` table records what was applied.
 *
 * ```ts
 * const next: PgMigration = { version: 2, name: "players' display names", sql: "ALTER TABLE players ADD COLUMN name TEXT;" };
 * ```
 */
export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Every migration of the PostgreSQL store, oldest first. Version 1 is the
 * SQLite schema as of its version 6 (common/store/migrations.ts) in one step,
 * with the same tables, checks and invariants: a player's balance is the sum of
 * their ledger and never negative, the ledger is append-only, a bet has at most
 * one stake and one settlement credit, a bet is never below its slippage floor.
 * The thin thread's `legacy_bets` (never read) is not carried over.
 *
 * ```ts
 * await migratePostgres(sql, { migrations: pgMigrations });
 * ```
 */
export const pgMigrations: readonly PgMigration[] = [
  {
    version: 1,
    name: "players, the money ledger, bets, ticks, recovery codes and nicknames",
    sql: `
      -- Times are ms since the epoch and money is in cents, both BIGINT (SQLite's INTEGER is 64-bit).

      -- One row that /readyz overwrites and reads back: a real write on every probe.
      CREATE TABLE health_probe (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        token      TEXT    NOT NULL,
        checked_at BIGINT  NOT NULL
      );

      CREATE TABLE players (
        id            TEXT   PRIMARY KEY,
        created_at    BIGINT NOT NULL,
        -- Kept equal to the sum of the player's ledger entries by ledger_moves_balance; never negative.
        balance_cents BIGINT NOT NULL DEFAULT 0 CHECK (balance_cents >= 0)
      );

      CREATE TABLE bets (
        id               TEXT    PRIMARY KEY,
        player_id        TEXT    NOT NULL REFERENCES players (id),
        stake_cents      BIGINT  NOT NULL CHECK (stake_cents > 0),
        t_start          BIGINT  NOT NULL,
        t_end            BIGINT  NOT NULL CHECK (t_end > t_start),
        price_low_cents  BIGINT  NOT NULL CHECK (price_low_cents > 0),
        price_high_cents BIGINT  NOT NULL CHECK (price_high_cents > price_low_cents),
        -- The multiplier in hundredths (2.35x = 235), fixed at acceptance.
        multiplier_centi INTEGER NOT NULL CHECK (multiplier_centi >= 101),
        status           TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost', 'void')),
        payout_cents     BIGINT  NOT NULL DEFAULT 0 CHECK (payout_cents >= 0),
        created_at       BIGINT  NOT NULL,
        settled_at       BIGINT,
        -- The player's balance right after the stake: a retried request gets the first answer again.
        balance_after_cents BIGINT NOT NULL CHECK (balance_after_cents >= 0),
        idempotency_key  TEXT,
        -- Slippage protection (docs/rules.md): the quote the player bet from, and the lowest multiplier they accepted.
        quote_id         TEXT,
        min_multiplier_centi INTEGER,
        CHECK (min_multiplier_centi IS NULL OR (min_multiplier_centi >= 101 AND min_multiplier_centi <= multiplier_centi))
      );
      CREATE INDEX bets_player ON bets (player_id, id);
      CREATE UNIQUE INDEX bets_idempotency ON bets (player_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
      -- SQLite keeps bets ordered by (t_end, id); a PostgreSQL heap has no such order, so
      -- settlement finds a window's open bets through this partial index instead.
      CREATE INDEX bets_open_by_end ON bets (t_end, id) WHERE status = 'open';
      -- The day's won and lost bets in settlement order, with every column the leaderboard reads.
      CREATE INDEX bets_settled ON bets (settled_at, player_id, stake_cents, payout_cents, status) WHERE status IN ('won', 'lost');

      -- Append-only: every movement of money, signed (credits > 0, stakes < 0).
      CREATE TABLE ledger (
        id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        player_id    TEXT   NOT NULL REFERENCES players (id),
        kind         TEXT   NOT NULL CHECK (kind IN ('grant', 'stake', 'payout', 'refund')),
        amount_cents BIGINT NOT NULL CHECK (amount_cents <> 0 AND (kind = 'stake') = (amount_cents < 0)),
        bet_id       TEXT   REFERENCES bets (id),
        created_at   BIGINT NOT NULL,
        CHECK ((kind = 'grant') = (bet_id IS NULL))
      );
      CREATE INDEX ledger_player ON ledger (player_id, id);
      -- At most one stake and one settlement credit per bet.
      CREATE UNIQUE INDEX ledger_bet_stake ON ledger (bet_id) WHERE kind = 'stake';
      CREATE UNIQUE INDEX ledger_bet_credit ON ledger (bet_id) WHERE kind IN ('payout', 'refund');

      -- Once per INSERT statement, not per row: a group commit's multi-row INSERT moves each
      -- player's balance by the sum of their rows in one UPDATE. The players are locked in id
      -- order first, so two nodes' batches over the same players wait instead of deadlocking.
      -- The balance check still bites on that UPDATE and aborts the whole statement.
      CREATE FUNCTION ledger_moves_balance() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM 1 FROM players WHERE id IN (SELECT player_id FROM new_rows) ORDER BY id FOR UPDATE;
        UPDATE players p SET balance_cents = p.balance_cents + moved.cents
          FROM (SELECT player_id, sum(amount_cents) AS cents FROM new_rows GROUP BY player_id) moved
          WHERE p.id = moved.player_id;
        RETURN NULL;
      END $$;
      CREATE TRIGGER ledger_moves_balance AFTER INSERT ON ledger
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_moves_balance();

      CREATE FUNCTION ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger is append-only';
      END $$;
      CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
      CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger FOR EACH ROW EXECUTE FUNCTION ledger_is_append_only();
      CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON ledger FOR EACH STATEMENT EXECUTE FUNCTION ledger_is_append_only();

      -- Every tick the API judged bets on, in order, written in the same transaction as
      -- the settlements it caused: what a settlement is recomputed from later.
      CREATE TABLE ticks (
        ts          BIGINT           PRIMARY KEY,  -- the tick's own time, ms since the epoch
        seq         BIGINT,                        -- the publisher's number (NULL only for an unsigned tick without one)
        price       DOUBLE PRECISION NOT NULL CHECK (price > 0),
        price_cents BIGINT           NOT NULL,     -- what settlement compares with the bands
        sig         TEXT,                          -- the publisher's signature, when signing is on
        continuous  SMALLINT         NOT NULL CHECK (continuous IN (0, 1)), -- 0: a break lies before this tick
        received_at BIGINT           NOT NULL
      );

      -- One recovery code per player: only an HMAC of it, looked up by that HMAC.
      CREATE TABLE recovery_codes (
        player_id  TEXT   PRIMARY KEY REFERENCES players (id),
        code_hash  TEXT   NOT NULL UNIQUE,
        created_at BIGINT NOT NULL
      );

      -- Names shown on the leaderboard; unique regardless of case (the contract allows ASCII only,
      -- where lower() is SQLite's NOCASE).
      CREATE TABLE nicknames (
        player_id TEXT   PRIMARY KEY REFERENCES players (id),
        nickname  TEXT   NOT NULL CHECK (char_length(nickname) BETWEEN 3 AND 20),
        set_at    BIGINT NOT NULL
      );
      CREATE UNIQUE INDEX nicknames_nocase ON nicknames (lower(nickname));
    `,
  },
  {
    version: 2,
    name: "the settler lease, and exposure reserved per cell and for the house",
    sql: `
      -- One settler at a time across api nodes (api/store/settler-lease.ts): the holder renews
      -- expires_at; a node takes an expired or free lease by bumping epoch, and every settlement
      -- transaction checks (holder, epoch) under FOR SHARE, so an ex-holder writes nothing.
      CREATE TABLE settler_lease (
        id         INTEGER     PRIMARY KEY CHECK (id = 1),
        holder     TEXT,
        epoch      BIGINT      NOT NULL DEFAULT 0 CHECK (epoch >= 0),
        expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
      );
      INSERT INTO settler_lease (id) VALUES (1);

      -- What the house stands to pay on open bets (potential payout, rounded down per bet), per
      -- cell and in total, reserved in the transaction that places the bets and released in the
      -- one that settles them (api/store/pg-exposure.ts): the caps hold across nodes.
      CREATE TABLE exposure_cells (
        t_start                BIGINT NOT NULL,
        low_cents              BIGINT NOT NULL,
        potential_payout_cents BIGINT NOT NULL DEFAULT 0 CHECK (potential_payout_cents >= 0),
        PRIMARY KEY (t_start, low_cents)
      );
      CREATE TABLE exposure_house (
        id                     INTEGER PRIMARY KEY CHECK (id = 1),
        potential_payout_cents BIGINT  NOT NULL DEFAULT 0 CHECK (potential_payout_cents >= 0),
        open_bets              BIGINT  NOT NULL DEFAULT 0 CHECK (open_bets >= 0)
      );
      -- Bets already open when this applies are counted, so releasing them never goes below zero.
      INSERT INTO exposure_cells (t_start, low_cents, potential_payout_cents)
        SELECT t_start, price_low_cents, sum(stake_cents * multiplier_centi / 100) FROM bets WHERE status = 'open' GROUP BY t_start, price_low_cents;
      INSERT INTO exposure_house (id, potential_payout_cents, open_bets)
        SELECT 1, coalesce(sum(stake_cents * multiplier_centi / 100), 0), count(*) FROM bets WHERE status = 'open';
    `,
  },
  {
    version: 3,
    name: "bets numbered as they are stored, for the settler to read other nodes' bets in order",
    sql: `
      -- Numbers come from a sequence at insert time. A batch reserving exposure holds the house
      -- row until it commits, and the settler reads new bets under a share lock of that row
      -- (api/store/pg-open-bets.ts), so no number below one it has read can still commit.
      ALTER TABLE bets ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
      CREATE INDEX bets_open_seq ON bets (seq) WHERE status = 'open';
      -- A player's open bets, counted under the player's lock for MAX_OPEN_BETS (api/store/pg-exposure.ts).
      CREATE INDEX bets_open_player ON bets (player_id) WHERE status = 'open';
    `,
  },
  {
    version: 4,
    name: "each player's open bets counted on their row, for MAX_OPEN_BETS under the player's lock",
    sql: `
      -- Counting them from bets in every batch cost 5-10 ms a batch once the planner, on a young
      -- table's statistics, scanned every open bet; the group commit already locks the players' rows.
      ALTER TABLE players ADD COLUMN open_bets INTEGER NOT NULL DEFAULT 0 CHECK (open_bets >= 0);
      UPDATE players p SET open_bets = c.n
        FROM (SELECT player_id, count(*) AS n FROM bets WHERE status = 'open' GROUP BY player_id) c
        WHERE p.id = c.player_id;

      -- Kept by triggers, so every statement that opens, settles or removes a bet keeps it exact.
      -- Placement and settlement lock the players in id order before they write bets: these
      -- UPDATEs take no lock those transactions do not hold already.
      CREATE FUNCTION bets_count_open() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          UPDATE players p SET open_bets = p.open_bets + c.n
            FROM (SELECT player_id, count(*) AS n FROM new_rows WHERE status = 'open' GROUP BY player_id) c
            WHERE p.id = c.player_id;
        ELSIF TG_OP = 'UPDATE' THEN
          UPDATE players p SET open_bets = p.open_bets + c.n
            FROM (SELECT n.player_id, sum((n.status = 'open')::int - (o.status = 'open')::int) AS n
                  FROM new_rows n JOIN old_rows o ON o.id = n.id GROUP BY n.player_id) c
            WHERE p.id = c.player_id AND c.n <> 0;
        ELSE
          UPDATE players p SET open_bets = p.open_bets - c.n
            FROM (SELECT player_id, count(*) AS n FROM old_rows WHERE status = 'open' GROUP BY player_id) c
            WHERE p.id = c.player_id;
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER bets_count_open_insert AFTER INSERT ON bets
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bets_count_open();
      CREATE TRIGGER bets_count_open_update AFTER UPDATE ON bets
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION bets_count_open();
      CREATE TRIGGER bets_count_open_delete AFTER DELETE ON bets
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION bets_count_open();
    `,
  },
  {
    version: 5,
    name: "a guard a statement can raise, for statements whose COMMIT is already on its way",
    sql: `
      -- The group commit sends its last writes and COMMIT in one round trip, so a check on what a
      -- write returned must fail inside the server: the raise aborts the transaction and its COMMIT
      -- rolls back.
      CREATE FUNCTION guard(ok boolean, what text) RETURNS boolean LANGUAGE plpgsql AS $$
      BEGIN
        IF ok IS NOT TRUE THEN
          RAISE EXCEPTION 'guard failed: %', what;
        END IF;
        RETURN true;
      END $$;
    `,
  },
  {
    version: 6,
    name: "the house's reservation in eight parts, so that batches on different parts commit at once",
    sql: `
      -- A batch reserves on one part, each capped at its share of MAX_HOUSE_LIABILITY, so their sum
      -- never passes the cap; a batch whose part is full is placed again with every part locked and
      -- judged against the sum (api/store/pg-exposure.ts). The settler's read of new bets takes all
      -- parts FOR SHARE (api/store/pg-open-bets.ts). Row 1 keeps what is reserved today.
      ALTER TABLE exposure_house DROP CONSTRAINT exposure_house_id_check;
      ALTER TABLE exposure_house ADD CONSTRAINT exposure_house_part CHECK (id BETWEEN 1 AND 8);
      INSERT INTO exposure_house (id) SELECT part FROM generate_series(2, 8) AS part;
    `,
  },
  {
    version: 7,
    name: "bet ids in byte order (COLLATE \"C\"), as SQLite orders them, so an index serves a player's history",
    sql: `
      -- A player's history pages by id in byte order (api/store/postgres-store.ts \`page\`); on a
      -- database whose default collation is not C, bets_player could not serve that order and
      -- every page sorted all the player's bets. The stake and credit rows follow their bet.
      ALTER TABLE ledger DROP CONSTRAINT ledger_bet_id_fkey;
      ALTER TABLE bets ALTER COLUMN id TYPE TEXT COLLATE "C";
      ALTER TABLE ledger ALTER COLUMN bet_id TYPE TEXT COLLATE "C";
      ALTER TABLE ledger ADD CONSTRAINT ledger_bet_id_fkey FOREIGN KEY (bet_id) REFERENCES bets (id);
    `,
  },
  {
    version: 8,
    name: "no index for counting a player's open bets: players.open_bets counts them (migration 4)",
    sql: `
      -- Unused since migration 4, it still took an entry with every bet placed and settled.
      DROP INDEX bets_open_player;
    `,
  },
  {
    version: 9,
    name: "the open bets' stakes kept with the house's reservation, so reading them costs eight rows, not every open bet",
    sql: `
      -- Placement adds a batch's stakes to the part it reserves on, settlement takes them back from the
      -- parts in id order (api/store/pg-exposure.ts); the exposure gauges sum the eight rows
      -- (api/store/pg-exposure-metrics.ts). Row 1 takes the stakes already open.
      ALTER TABLE exposure_house ADD COLUMN open_stake_cents BIGINT NOT NULL DEFAULT 0 CHECK (open_stake_cents >= 0);
      UPDATE exposure_house SET open_stake_cents = (SELECT coalesce(sum(stake_cents), 0) FROM bets WHERE status = 'open') WHERE id = 1;
    `,
  },
];
