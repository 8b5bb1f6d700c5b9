import type { BetAccepted, BetRequest } from "../../common/contracts/bet.ts";
import type { ErrorBody } from "../../common/contracts/error.ts";
import type { Tick } from "../../common/contracts/price.ts";
import type { PriceHistory } from "../../common/contracts/price-history.ts";

/** The page talks to the API through relative URLs only, so it works behind any proxy on the same site. */
type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** The outcome of one bet request, ready to show. */
export type BetOutcome = { ok: true; betId: string } | { ok: false; message: string };

/**
 * Reads the history in `[from, to]`, following `truncated` pages up to `maxPages`.
 *
 * ```ts
 * const ticks = await fetchPriceHistory({ from: Date.now() - 300_000, to: Date.now() });
 * ```
 */
export async function fetchPriceHistory(
  { from, to, limit = 5000, maxPages = 4 }: { from: number; to: number; limit?: number; maxPages?: number },
  fetchImpl: Fetch = fetch,
): Promise<Tick[]> {
  const ticks: Tick[] = [];
  let next = Math.max(0, Math.floor(from));
  for (let page = 0; page < maxPages && next <= to; page++) {
    const query = new URLSearchParams({ from: String(next), to: String(Math.floor(to)), limit: String(limit) });
    const response = await fetchImpl(`/api/prices?${query}`, { headers: { accept: "application/json" } });
    if (!response.ok) throw new Error(await errorMessage(response));
    const body = (await response.json()) as PriceHistory;
    ticks.push(...body.ticks);
    const last = body.ticks.at(-1);
    if (!body.truncated || !last) break;
    next = last.ts + 1;
  }
  return ticks;
}

/**
 * Places one bet; never throws. A refusal carries the API's own message and the
 * first detail, which says which field and why.
 */
export async function placeBet(request: BetRequest, { fetchImpl = fetch, timeoutMs = 8000 }: { fetchImpl?: Fetch; timeoutMs?: number } = {}): Promise<BetOutcome> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await fetchImpl("/api/bets", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(request),
      signal: abort.signal,
    });
    if (response.status === 202) {
      const body = (await response.json()) as BetAccepted;
      return { ok: true, betId: body.bet_id };
    }
    return { ok: false, message: await errorMessage(response) };
  } catch (error) {
    return { ok: false, message: abort.signal.aborted ? "no answer from the server in time" : "could not reach the server" };
  } finally {
    clearTimeout(timer);
  }
}

/** The API's error message (and its first detail) or, failing that, the HTTP status. */
async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as ErrorBody;
    const detail = body.error.details[0];
    return detail ? `${body.error.message}: ${detail.path} ${detail.message}` : body.error.message;
  } catch {
    return `the server answered ${response.status}`;
  }
}
