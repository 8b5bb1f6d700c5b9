import type { Leaderboard } from "../../common/contracts/leaderboard.ts";
import type { BetOrder, BetRow, BetStatus, PlaceOutcome } from "../bets/bet-store.ts";
import type { Disagreement, Settled } from "../settlement/settle-store.ts";
import type { Decision, OpenBet } from "../settlement/settlement-book.ts";
import type { JudgedTick } from "../settlement/tick-log.ts";

/**
 * Players and their money. Money moves only by ledger entries; a player's
 * balance is always the sum of their ledger and never negative.
 *
 * ```ts
 * await store.players.create("p1", 100_000, Date.now());
 * await store.players.balance("p1"); // 100000
 * ```
 */
export interface PlayerOperations {
  /** A new player with a starting grant (a `grant` ledger entry when above zero), in one transaction. */
  create(id: string, grantCents: number, now: number): Promise<void>;
  /** The balance in cents, or undefined for an unknown player. */
  balance(id: string): Promise<number | undefined>;
  /** Open bets: how many, their stakes and what they would pay if all won (each rounded down). */
  exposure(id: string): Promise<{ openBets: number; stakedCents: number; potentialPayoutCents: number }>;
  /** Every bet the player ever placed: how many, their stakes, and what they paid back (payouts and refunds). */
  totals(id: string): Promise<{ bets: number; stakedCents: number; paidOutCents: number }>;
}

/**
 * Leaderboard names, unique regardless of case (ASCII, per the `Nickname` contract).
 *
 * ```ts
 * await store.nicknames.set("p1", "satoshi", Date.now()); // "ok"
 * await store.nicknames.set("p2", "SATOSHI", Date.now()); // "taken"
 * ```
 */
export interface NicknameOperations {
  /** Sets or changes the player's nickname; "taken" when another player has it in any case. */
  set(playerId: string, nickname: string, now: number): Promise<"ok" | "taken">;
  /** The player's nickname, or undefined when they have none. */
  get(playerId: string): Promise<string | undefined>;
}

/**
 * Recovery codes, stored only as a keyed hash; one per player; a code redeems once.
 *
 * ```ts
 * const code = await store.recoveryCodes.issue("p1", Date.now());
 * await store.recoveryCodes.redeem(code); // "p1"
 * await store.recoveryCodes.redeem(code); // undefined: used
 * ```
 */
export interface RecoveryCodeOperations {
  /** A new code for `playerId`, replacing any earlier one. */
  issue(playerId: string, now: number): Promise<string>;
  /** The code's player, once (the code is deleted as it is read); undefined for an unknown or used code. */
  redeem(code: string): Promise<string | undefined>;
}

/**
 * Bets and their stakes.
 *
 * `placeBatch` is the group commit's write: the whole batch in ONE
 * transaction, one outcome per order, in order, judged as if the orders were
 * placed one after the other: an Idempotency-Key the player used before (in
 * an earlier batch or earlier in this one) replays that bet and moves no
 * money; an unknown player, or a stake above the balance left by the earlier
 * orders, is refused alone and writes nothing; every other order writes the
 * bet and its stake. A constraint the database enforces (a duplicate bet id, a
 * multiplier below the bet's own minimum) fails the whole batch and writes
 * nothing: the group committer then retries it order by order.
 *
 * ```ts
 * const [outcome] = await store.bets.placeBatch([order]); // { kind: "placed", bet } or a refusal
 * ```
 */
export interface BetOperations {
  placeBatch(orders: readonly BetOrder[]): Promise<PlaceOutcome[]>;
  /** The bet a player placed with this Idempotency-Key, if any. */
  byIdempotencyKey(playerId: string, key: string): Promise<BetRow | undefined>;
  /** One of the player's bets; undefined when it does not exist or is someone else's. */
  get(playerId: string, betId: string): Promise<BetRow | undefined>;
  /** The player's bets newest first (by id, in byte order), after the cursor (a bet id), optionally of one status. */
  page(playerId: string, options: { before?: string; status?: BetStatus; limit: number }): Promise<BetRow[]>;
}

/**
 * Settlement's writes and the reads that rebuild the settlement book.
 *
 * `settle` writes, in ONE transaction with the tick that decided them, each
 * decided bet that is still open: its status and, when won, its payout
 * (stake × multiplier rounded down) credited, when void its stake refunded.
 * A bet no longer open is skipped, so settling twice pays once. It returns
 * the bets that changed, in the decisions' order, each with the player's
 * balance after its credit. When a window's lost bets are not exactly its
 * open bets in the database, `onDisagreement` (given at creation) is told.
 *
 * ```ts
 * const settled = await store.settlement.settle(book.onTick(ts, priceCents, true), Date.now(), judged);
 * ```
 */
export interface SettlementOperations {
  settle(decisions: readonly Decision[], now: number, judged?: JudgedTick): Promise<Settled[]>;
  /** Every open bet, to rebuild the settlement book at start. */
  openBets(): Promise<OpenBet[]>;
  /** The earliest window start of an open bet; undefined when none is open. */
  oldestOpenStart(): Promise<number | undefined>;
}

/**
 * The ticks settlement judged bets on, in time order.
 *
 * ```ts
 * await store.ticks.append({ tick, continuous: true }, Date.now());
 * await store.ticks.last(); // { tick, continuous: true }
 * ```
 */
export interface TickOperations {
  /** Appends a judged tick on its own (`settle` appends the tick it is given in its own transaction). */
  append(judged: JudgedTick, receivedAt: number): Promise<void>;
  /** The newest judged tick. */
  last(): Promise<JudgedTick | undefined>;
  /** Judged ticks with `from <= ts <= to`, oldest first. */
  range(from: number, to: number): Promise<JudgedTick[]>;
}

/**
 * The UTC day's best net winnings among players with a nickname (see
 * api/leaderboard/leaderboard.ts), cached for `cacheMs`.
 *
 * ```ts
 * await store.leaderboard.read(Date.now()); // { day: "2026-12-02", entries: [...] }
 * ```
 */
export interface LeaderboardOperations {
  read(now: number): Promise<Leaderboard>;
}

/**
 * The store seam: every database operation the API makes, async, with two
 * implementations that pass one behaviour suite (api/store/store.behaviour.ts):
 * SQLite (`createSqliteStore`, today's modules, resolving at once) and
 * PostgreSQL (`createPostgresStore`). Each call is its own transaction.
 *
 * ```ts
 * const store: Store = createSqliteStore(db, { secret });
 * await store.players.create("p1", 100_000, Date.now());
 * ```
 */
export interface Store {
  readonly kind: "sqlite" | "postgres";
  readonly players: PlayerOperations;
  readonly nicknames: NicknameOperations;
  readonly recoveryCodes: RecoveryCodeOperations;
  readonly bets: BetOperations;
  readonly settlement: SettlementOperations;
  readonly ticks: TickOperations;
  readonly leaderboard: LeaderboardOperations;
}

/**
 * What every store takes: the session secret the recovery codes are keyed
 * with, how long the leaderboard is cached (1000 ms unless set), and who is
 * told when settlement's lost bets disagree with the database.
 *
 * ```ts
 * const options: StoreOptions = { secret: config.sessionSecret, leaderboardCacheMs: 1000, onDisagreement: (window) => log.warn({ window }, "settled bet by bet") };
 * ```
 */
export interface StoreOptions {
  secret: string;
  leaderboardCacheMs?: number;
  onDisagreement?: (window: Disagreement) => void;
}
