// Test data for the report's tests, made through the real stores (players,
// bets, settlement), with a journal of what was done so a test can work out
// the expected figures without SQL.
import type { Database } from "bun:sqlite";
import { createBetStore } from "../bets/bet-store.ts";
import { createPlayerStore } from "../players/player-store.ts";
import { createSettleStore, openBetOf } from "../settlement/settle-store.ts";

export const DAY = 86_400_000;
/** 2026-12-02T00:00:00Z. */
export const DAY_START = Date.UTC(2026, 11, 2);

export interface SeededBet {
  id: string;
  player: string;
  stake: number;
  multiplierCenti: number;
  tStart: number;
  tEnd: number;
  createdAt: number;
  outcome: "open" | "won" | "lost" | "void";
  settledAt: number | null;
}

export interface Seeded {
  players: { id: string; grant: number; at: number }[];
  bets: SeededBet[];
}

/** A seeded generator, so a failing run can be repeated. */
export function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/**
 * Players, and bets in 5 s windows around the day's two midnights (some
 * placed the day before, some ending the day after), settled won, lost or
 * void a few seconds after their window, or left open.
 */
export function seedBooks(db: Database, seed: number, { players = 6, bets = 300 } = {}): Seeded {
  const rand = random(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)]!;
  const playerStore = createPlayerStore(db);
  const betStore = createBetStore(db);
  const settleStore = createSettleStore(db);
  const seeded: Seeded = { players: [], bets: [] };
  for (let i = 0; i < players; i++) {
    const player = { id: `p${i}`, grant: 1_000_000, at: DAY_START - DAY + i * 1000 };
    playerStore.create(player.id, player.grant, player.at);
    seeded.players.push(player);
  }
  // Window ends spread over the day before, the day, and the day after.
  const windowEnds = Array.from({ length: 40 }, () => DAY_START - DAY / 2 + Math.floor(rand() * 2 * DAY / 5000) * 5000);
  for (let i = 0; i < bets; i++) {
    const tEnd = pick(windowEnds);
    const bet: SeededBet = {
      id: `b${String(i).padStart(4, "0")}`,
      player: pick(seeded.players).id,
      stake: 10 + Math.floor(rand() * 990),
      multiplierCenti: 101 + Math.floor(rand() * 900),
      tStart: tEnd - 5000,
      tEnd,
      createdAt: tEnd - 5000 - 2000 - Math.floor(rand() * 50_000),
      outcome: pick(["open", "won", "lost", "lost", "lost", "void"] as const),
      settledAt: null,
    };
    const [outcome] = betStore.placeBatch([
      { id: bet.id, playerId: bet.player, stakeCents: bet.stake, tStart: bet.tStart, tEnd: bet.tEnd, lowCents: 4_200_000, highCents: 4_201_000, multiplierCenti: bet.multiplierCenti, createdAt: bet.createdAt, idempotencyKey: null },
    ]);
    if (outcome?.kind !== "placed") throw new Error(`seed: bet ${bet.id} was not placed (${outcome?.kind})`);
    seeded.bets.push(bet);
  }
  for (const bet of seeded.bets) {
    if (bet.outcome === "open") continue;
    bet.settledAt = bet.tEnd + 100 + Math.floor(rand() * 3000);
    const row = { id: bet.id, player_id: bet.player, t_start: bet.tStart, t_end: bet.tEnd, price_low_cents: 4_200_000, price_high_cents: 4_201_000, stake_cents: bet.stake, multiplier_centi: bet.multiplierCenti };
    settleStore.settle([{ bet: openBetOf(row), outcome: bet.outcome, at: bet.settledAt }], bet.settledAt);
  }
  return seeded;
}
