/**
 * What a benchmark of authenticated bets needs around our API: a constant
 * price feed, guest sessions, and a file of requests (a bearer token and a bet
 * body per line) for `bench/wrk/auth-bets.lua`. Used by bets.ts and http.ts.
 */
import { writeFileSync } from "node:fs";
import Redis from "ioredis";
import { Channels, Keys } from "../../common/channels.ts";

export const PRICE = 42_000;
export const STAKE = 1;
/** A fixed secret for the API under test: sessions are made and checked by the same process. */
export const BENCH_SESSION_SECRET = "bench-session-secret-0123456789abcdef";

/** Wide limits: the run measures throughput, not refusals. Money in dollars, as the API reads it. */
export const LIMITS = {
  STARTING_BALANCE: "10000000",
  MAX_OPEN_BETS: "1000000",
  BETS_PER_PLAYER_PER_S: "1000000",
  SESSIONS_PER_IP_PER_MIN: "1000000",
  MAX_CELL_LIABILITY: "100000000000",
  MAX_HOUSE_LIABILITY: "100000000000",
};

/** A constant price, published as the price service would: a tick on the channel and the latest-price key, every 200 ms. */
export function startTickFeed(url: string) {
  const redis = new Redis(url, { lazyConnect: false });
  let resolveFirst: () => void = () => {};
  const first = new Promise<void>((resolve) => (resolveFirst = resolve));
  const publish = async () => {
    const tick = JSON.stringify({ symbol: "BTC-USD", price: PRICE, ts: Date.now() });
    await redis.set(Keys.latestPrice, tick, "PX", 5000);
    await redis.publish(Channels.priceTicks, tick);
    resolveFirst();
  };
  void publish();
  const timer = setInterval(() => void publish().catch(() => {}), 200);
  const stop = async () => {
    clearInterval(timer);
    redis.disconnect();
  };
  return { first, [Symbol.asyncDispose]: stop };
}

/** `count` guest sessions (POST /api/session), 50 at a time; their tokens. */
export async function createSessions(baseUrl: string, count: number): Promise<string[]> {
  const tokens: string[] = [];
  const one = async () => {
    const response = await fetch(`${baseUrl}/api/session`, { method: "POST" });
    const body = (await response.json()) as { token?: string };
    if (response.status !== 201 || !body.token) throw new Error(`POST /api/session answered ${response.status}: ${JSON.stringify(body).slice(0, 200)}`);
    tokens.push(body.token);
  };
  for (let done = 0; done < count; done += 50) await Promise.all(Array.from({ length: Math.min(50, count - done) }, one));
  return tokens;
}

/**
 * Writes one request per line ("<token> <body>"): tokens in turn, each on the
 * next open cell at least 30 s ahead. Checks one of them answers 202 first (a
 * benchmark of refusals is worthless). Returns how many cells are used.
 */
export async function writeRequests(baseUrl: string, tokens: readonly string[], path: string): Promise<number> {
  let grid: { cells: { t_start: number; t_end: number; price_low: number; price_high: number; locked: boolean; offered: boolean; multiplier: number }[] } | undefined;
  for (let attempt = 0; attempt < 100 && !grid; attempt++) {
    const response = await fetch(`${baseUrl}/api/grid`);
    if (response.ok) grid = (await response.json()) as typeof grid;
    else await Bun.sleep(100);
  }
  if (!grid) throw new Error("GET /api/grid never answered 200 (no fresh price?)");
  const horizon = Date.now() + 30_000;
  // Offered, and well under the multiplier cap: a far cell's fair multiplier passes the cap as the price moves off,
  // and the run would measure not_offered refusals instead of bets.
  const cells = grid.cells.filter((cell) => !cell.locked && cell.offered && cell.multiplier <= 20 && cell.t_start >= horizon);
  if (cells.length === 0) throw new Error("no grid cell starts ≥ 30 s ahead: raise GRID_COLUMNS or COLUMN_MS");
  const lines = Array.from({ length: Math.max(tokens.length, cells.length) * 2 }, (_, index) => {
    const cell = cells[index % cells.length]!;
    const body = JSON.stringify({ amount: STAKE, cell: { t_start: cell.t_start, t_end: cell.t_end, price_low: cell.price_low, price_high: cell.price_high } });
    return `${tokens[index % tokens.length]} ${body}`;
  });
  writeFileSync(path, `${lines.join("\n")}\n`);
  const [token, body] = [lines[0]!.slice(0, lines[0]!.indexOf(" ")), lines[0]!.slice(lines[0]!.indexOf(" ") + 1)];
  const response = await fetch(`${baseUrl}/api/bets`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`pre-flight bet answered ${response.status}, not 202: ${text.slice(0, 300)}`);
  return cells.length;
}
