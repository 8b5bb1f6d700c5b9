import type { BetRequest } from "../../common/contracts/bet.ts";
import type { ErrorDetail } from "../../common/contracts/error.ts";
import { toCents } from "../../common/money.ts";
import { HttpError } from "../http/http-error.ts";

/** How far ahead a window may end, and how long it may last. */
export const MAX_HORIZON_MS = 24 * 60 * 60 * 1000;
export const MAX_WINDOW_MS = 60 * 60 * 1000;

/** A bet ready to store: money and prices in integer cents. */
export interface NewBet {
  id: string;
  userId: string;
  amountCents: number;
  tStart: number;
  tEnd: number;
  priceLowCents: number;
  priceHighCents: number;
  createdAt: number;
}

/**
 * Checks what the schema cannot (two decimals, ordering, a window in the
 * future) and turns the request into a `NewBet` with a time-ordered id.
 * Throws `HttpError` 400 `validation_failed` listing every problem.
 */
export function prepareBet(request: BetRequest, now: number): NewBet {
  const { cell } = request;
  const problems: ErrorDetail[] = [];
  const cents = (value: number, path: string) => {
    const converted = toCents(value);
    if (converted === undefined) problems.push({ path, message: "must have at most two decimal places" });
    return converted ?? 0;
  };
  const amountCents = cents(request.amount, "/amount");
  const priceLowCents = cents(cell.price_low, "/cell/price_low");
  const priceHighCents = cents(cell.price_high, "/cell/price_high");
  if (amountCents === 0 && !problems.length) problems.push({ path: "/amount", message: "must be at least 0.01" });
  if (cell.price_low >= cell.price_high) problems.push({ path: "/cell/price_high", message: "must be greater than price_low" });
  if (cell.t_start >= cell.t_end) problems.push({ path: "/cell/t_end", message: "must be later than t_start" });
  if (cell.t_end <= now) problems.push({ path: "/cell/t_end", message: "must be in the future" });
  if (cell.t_end > now + MAX_HORIZON_MS) problems.push({ path: "/cell/t_end", message: "must be within 24 hours" });
  if (cell.t_end - cell.t_start > MAX_WINDOW_MS) problems.push({ path: "/cell", message: "window must last at most one hour" });
  if (problems.length > 0) throw new HttpError(400, "validation_failed", "bet is not valid", problems);

  return {
    id: Bun.randomUUIDv7(),
    userId: request.user_id,
    amountCents,
    tStart: cell.t_start,
    tEnd: cell.t_end,
    priceLowCents,
    priceHighCents,
    createdAt: now,
  };
}
