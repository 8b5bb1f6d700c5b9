import type { BetAccepted, BetPage, BetRequest, BetView } from "../../common/contracts/bet.ts";
import type { ErrorBody, ErrorCode } from "../../common/contracts/error.ts";
import type { Grid } from "../../common/contracts/grid.ts";
import type { Tick } from "../../common/contracts/price.ts";
import type { PriceHistory } from "../../common/contracts/price-history.ts";
import type { CurrentNickname, Leaderboard } from "../../common/contracts/leaderboard.ts";
import type { RecoveryCodeCreated } from "../../common/contracts/recovery.ts";
import type { Me, SessionCreated } from "../../common/contracts/session.ts";
import { formatMultiplier } from "./format.ts";
import { type Fetch, type Session, SessionError } from "./session.ts";

/** Ticks asked for per page of `GET /api/prices`: the API's largest page (`PRICE_HISTORY_MAX_LIMIT`). */
const HISTORY_PAGE_LIMIT = 5000;
/** Pages of history read at most: 20,000 ticks, over five hours at one a second. */
const HISTORY_MAX_PAGES = 4;
/** Bets asked for per page of `GET /api/bets`: the API's largest page. */
const BETS_PAGE_LIMIT = 100;
/** Pages of open bets read at most. */
const OPEN_BETS_MAX_PAGES = 2;
/** A bet request with no answer in this long is given up (and sent once more, under the same key). */
const BET_TIMEOUT_MS = 8000;
/** How many times one tap's bet is sent at most. */
const BET_ATTEMPTS = 2;

/**
 * The outcome of one bet request, ready to show.
 *
 * ```ts
 * const outcome: BetOutcome = { ok: false, code: "cell_locked", message: "too late: this cell is locked" };
 * ```
 */
export type BetOutcome =
  | { ok: true; betId: string; multiplier: number; potentialPayout: number; balance: number }
  | { ok: false; code: ErrorCode | "network"; message: string; currentMultiplier?: number };

/**
 * Reads the history in `[from, to]`, following `truncated` pages up to `maxPages`.
 *
 * ```ts
 * const ticks = await fetchPriceHistory({ from: Date.now() - 300_000, to: Date.now() });
 * ```
 */
export async function fetchPriceHistory(
  { from, to, limit = HISTORY_PAGE_LIMIT, maxPages = HISTORY_MAX_PAGES }: { from: number; to: number; limit?: number; maxPages?: number },
  fetchImpl: Fetch = (input, init) => fetch(input, init),
): Promise<Tick[]> {
  const ticks: Tick[] = [];
  let next = Math.max(0, Math.floor(from));
  for (let page = 0; page < maxPages && next <= to; page++) {
    const query = new URLSearchParams({ from: String(next), to: String(Math.floor(to)), limit: String(limit) });
    const response = await fetchImpl(`/api/prices?${query}`, { headers: { accept: "application/json" } });
    if (!response.ok) throw new Error((await readError(response)).message);
    const body = (await response.json()) as PriceHistory;
    ticks.push(...body.ticks);
    const last = body.ticks.at(-1);
    if (!body.truncated || !last) break;
    next = last.ts + 1;
  }
  return ticks;
}

/**
 * `GET /api/grid`: the priced grid now, or undefined while the API has no fresh price (503).
 *
 * ```ts
 * const grid = await fetchGrid(); // undefined while the API has no fresh price
 * ```
 */
export async function fetchGrid(fetchImpl: Fetch = (input, init) => fetch(input, init)): Promise<Grid | undefined> {
  const response = await fetchImpl("/api/grid", { headers: { accept: "application/json" } });
  if (response.status === 503) return undefined;
  if (!response.ok) throw new Error((await readError(response)).message);
  return (await response.json()) as Grid;
}

/**
 * `GET /api/me` for the session's player.
 *
 * ```ts
 * const me = await fetchMe(session);
 * ```
 */
export async function fetchMe(session: Session): Promise<Me> {
  const response = await session.fetch("/api/me", { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error((await readError(response)).message);
  return (await response.json()) as Me;
}

/**
 * The player's open bets, newest first, following pages up to `maxPages` of `BETS_PAGE_LIMIT`.
 *
 * ```ts
 * const open = await fetchOpenBets(session, { maxPages: 1 });
 * ```
 */
export async function fetchOpenBets(session: Session, { maxPages = OPEN_BETS_MAX_PAGES }: { maxPages?: number } = {}): Promise<BetView[]> {
  const bets: BetView[] = [];
  let before: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const query = new URLSearchParams({ status: "open", limit: String(BETS_PAGE_LIMIT), ...(before ? { before } : {}) });
    const response = await session.fetch(`/api/bets?${query}`, { headers: { accept: "application/json" } });
    if (!response.ok) throw new Error((await readError(response)).message);
    const body = (await response.json()) as BetPage;
    bets.push(...body.bets);
    before = body.next_before;
    if (!before) break;
  }
  return bets;
}

/**
 * `GET /api/bets`: the session's newest bets, whatever their status (one page of up to `BETS_PAGE_LIMIT`).
 *
 * ```ts
 * const recent = await fetchRecentBets(session);
 * ```
 */
export async function fetchRecentBets(session: Session): Promise<BetView[]> {
  const response = await session.fetch(`/api/bets?limit=${BETS_PAGE_LIMIT}`, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error((await readError(response)).message);
  return ((await response.json()) as BetPage).bets;
}

/**
 * One page of `GET /api/bets`, newest first, whatever their status: the history panel's pages. Pass the
 * previous page's `next_before` as `before` for the next one.
 *
 * ```ts
 * const { bets, next_before } = await fetchBetPage(session, { limit: 20 });
 * ```
 */
export async function fetchBetPage(session: Session, { before, limit = 20 }: { before?: string; limit?: number } = {}): Promise<BetPage> {
  const query = new URLSearchParams({ limit: String(limit), ...(before ? { before } : {}) });
  const response = await session.fetch(`/api/bets?${query}`, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error((await readError(response)).message);
  return (await response.json()) as BetPage;
}

/**
 * `GET /api/bets/:id`: one of the session's bets (one placed on another device, say).
 *
 * ```ts
 * const bet = await fetchBet(session, event.bet_id);
 * ```
 */
export async function fetchBet(session: Session, betId: string): Promise<BetView> {
  const response = await session.fetch(`/api/bets/${encodeURIComponent(betId)}`, { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error((await readError(response)).message);
  return (await response.json()) as BetView;
}

/**
 * Places one bet; never throws. `idempotencyKey` names this one tap: a request
 * that got no answer is sent once more under the same key, so the stake is
 * debited at most once. A refusal comes back in plain words.
 *
 * ```ts
 * const outcome = await placeBet(session, { cell, amount: 5 }, { idempotencyKey: newTapKey() });
 * ```
 */
export async function placeBet(
  session: Session,
  request: BetRequest,
  { idempotencyKey, timeoutMs = BET_TIMEOUT_MS, attempts = BET_ATTEMPTS }: { idempotencyKey: string; timeoutMs?: number; attempts?: number },
): Promise<BetOutcome> {
  let outcome: BetOutcome = { ok: false, code: "network", message: "could not reach the server" };
  for (let attempt = 0; attempt < attempts; attempt++) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const response = await session.fetch("/api/bets", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json", "idempotency-key": idempotencyKey },
        body: JSON.stringify(request),
        signal: abort.signal,
      });
      if (response.status === 202) {
        const body = (await response.json()) as BetAccepted;
        return { ok: true, betId: body.bet_id, multiplier: body.multiplier, potentialPayout: body.potential_payout, balance: body.balance };
      }
      return { ok: false, ...(await readError(response)) };
    } catch (error) {
      if (error instanceof SessionError) {
        const { code, message } = await readError(error.response);
        return { ok: false, code, message: `no session: ${message}` };
      }
      outcome = { ok: false, code: "network", message: abort.signal.aborted ? "no answer from the server in time" : "could not reach the server" };
    } finally {
      clearTimeout(timer);
    }
  }
  return outcome;
}

/**
 * `POST /api/recovery-code`: a code that brings this player back on another device. Shown once; a new one replaces it.
 *
 * ```ts
 * const { code } = await createRecoveryCode(session); // "7K3M-Q9XA-2B8D-W4TZ-H6NP"
 * ```
 */
export async function createRecoveryCode(session: Session): Promise<RecoveryCodeCreated> {
  const response = await session.fetch("/api/recovery-code", { method: "POST", headers: { accept: "application/json" } });
  if (response.status !== 201) throw new Error((await readError(response)).message);
  return (await response.json()) as RecoveryCodeCreated;
}

/**
 * `POST /api/session/recover`: a session for the player a recovery code names. Throws in plain words when the code
 * is wrong or used (401) or tried too often (429).
 *
 * ```ts
 * const created = await recoverSession("7K3M-Q9XA-2B8D-W4TZ-H6NP");
 * ```
 */
export async function recoverSession(code: string, fetchImpl: Fetch = (input, init) => fetch(input, init)): Promise<SessionCreated> {
  const response = await fetchImpl("/api/session/recover", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ code: code.trim() }),
  });
  if (response.status === 401) throw new Error("that code is wrong or already used");
  if (response.status !== 201) throw new Error((await readError(response)).message);
  return (await response.json()) as SessionCreated;
}

/**
 * `GET /api/players/me/nickname`: the name the player shows on the leaderboard, or null before they pick one.
 *
 * ```ts
 * const { nickname } = await fetchNickname(session);
 * ```
 */
export async function fetchNickname(session: Session): Promise<CurrentNickname> {
  const response = await session.fetch("/api/players/me/nickname", { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error((await readError(response)).message);
  return (await response.json()) as CurrentNickname;
}

/**
 * `PUT /api/players/me/nickname`; throws in plain words when the name is taken (409) or not allowed (400).
 *
 * ```ts
 * await saveNickname(session, "satoshi_42");
 * ```
 */
export async function saveNickname(session: Session, nickname: string): Promise<void> {
  const response = await session.fetch("/api/players/me/nickname", {
    method: "PUT",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ nickname }),
  });
  if (response.ok) return;
  const { code, message } = await readError(response);
  if (code === "nickname_taken") throw new Error("another player has that name");
  if (code === "validation_failed") throw new Error("3–20 letters, digits, spaces, _ or -, not starting or ending with a space");
  throw new Error(message);
}

/**
 * `GET /api/leaderboard`: today's (UTC) players by net winnings.
 *
 * ```ts
 * const { day, entries } = await fetchLeaderboard();
 * ```
 */
export async function fetchLeaderboard(fetchImpl: Fetch = (input, init) => fetch(input, init)): Promise<Leaderboard> {
  const response = await fetchImpl("/api/leaderboard", { headers: { accept: "application/json" } });
  if (!response.ok) throw new Error((await readError(response)).message);
  return (await response.json()) as Leaderboard;
}

/** Seconds from a Retry-After header, if it holds a number. */
function retryAfter(response: Response): number | undefined {
  const value = Number(response.headers.get("retry-after"));
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/**
 * An API refusal in words a player understands; the API's own message where it already says it plainly.
 *
 * ```ts
 * await readError(new Response("oops", { status: 502 })); // { code: "network", message: "the server answered 502" }
 * ```
 */
export async function readError(response: Response): Promise<{ code: ErrorCode | "network"; message: string; currentMultiplier?: number }> {
  let body: ErrorBody | undefined;
  try {
    body = (await response.json()) as ErrorBody;
  } catch {
    body = undefined;
  }
  if (!body?.error) return { code: "network", message: `the server answered ${response.status}` };
  const { code, message, details, current_multiplier } = body.error;
  const wait = retryAfter(response);
  switch (code) {
    case "cell_locked":
      return { code, message: "too late: this cell is locked" };
    case "not_offered":
      return { code, message: `not offered: ${message}` };
    case "insufficient_funds":
      return { code, message: "insufficient funds: the stake is more than your balance" };
    case "rate_limited":
      return { code, message: `rate limited: too many requests, try again${wait ? ` in ${wait} s` : " shortly"}` };
    case "limit_exceeded":
      return { code, message: `limit exceeded: ${message}` };
    case "quote_changed":
      // The bet was not placed (nothing debited): the page offers the new multiplier for one more tap.
      return current_multiplier === undefined
        ? { code, message: "the multiplier has changed; tap again to take the new one" }
        : { code, message: `Now ${formatMultiplier(current_multiplier)} — tap again to take it`, currentMultiplier: current_multiplier };
    case "off_grid":
      return { code, message: "this cell is no longer offered" };
    case "unauthorized":
      return { code, message: "your session has ended; reload the page" };
    default: {
      const detail = details[0];
      return { code, message: detail ? `${message}: ${detail.path} ${detail.message}` : message };
    }
  }
}
