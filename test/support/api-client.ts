import type { Grid, GridCell } from "../../common/contracts/grid.ts";
import type { SessionCreated } from "../../common/contracts/session.ts";

/** A random address for `X-Real-IP`, so each test's sessions have their own rate budget. */
export function randomAddress(): string {
  return `10.${(Math.random() * 255) | 0}.${(Math.random() * 255) | 0}.${(Math.random() * 255) | 0}`;
}

/** A new guest session: its token, id and starting balance. */
export async function newSession(base: string, address = randomAddress()): Promise<SessionCreated> {
  const response = await fetch(`${base}/api/session`, { method: "POST", headers: { "x-real-ip": address } });
  if (response.status !== 201) throw new Error(`session: ${response.status} ${await response.text()}`);
  return (await response.json()) as SessionCreated;
}

export async function getGrid(base: string, token?: string): Promise<Grid> {
  // With a token, nginx sends the request to the player's api node (docs/nodes.md), the one their bets go to.
  const response = await fetch(`${base}/api/grid`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (response.status !== 200) throw new Error(`grid: ${response.status} ${await response.text()}`);
  return (await response.json()) as Grid;
}

/**
 * An unlocked, offered cell that starts at least `minLeadMs` from now (so it stays open while the test runs). By
 * default one well under the multiplier cap: a capped far cell's return falls as its window nears, and it stops being
 * offered (MIN_RTP) while the test still bets on it.
 */
export function openCell(grid: Grid, pick: (cells: GridCell[]) => GridCell | undefined = (cells) => cells.find((cell) => cell.multiplier <= 20), minLeadMs = 8000): GridCell {
  const cells = grid.cells.filter((cell) => !cell.locked && cell.offered && cell.t_start - Date.now() >= minLeadMs);
  const cell = pick(cells);
  if (!cell) throw new Error("no open cell on the grid");
  return cell;
}

export function cellOf(cell: GridCell) {
  return { t_start: cell.t_start, t_end: cell.t_end, price_low: cell.price_low, price_high: cell.price_high };
}

export function postBet(base: string, token: string | undefined, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/api/bets`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export function authed(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
