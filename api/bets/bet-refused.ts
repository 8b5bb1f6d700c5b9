import type { ErrorDetail } from "../../common/contracts/error.ts";

/**
 * Why a bet was not accepted; the routes map each reason to the error contract's status and code.
 *
 * ```ts
 * const reason: BetRefusal = "cell_locked";
 * ```
 */
export type BetRefusal =
  | "rate_limited"
  | "invalid"
  | "stake_out_of_range"
  | "off_grid"
  | "cell_locked"
  | "not_offered"
  | "quote_changed"
  | "no_price"
  | "limit_exceeded"
  | "insufficient_funds"
  | "unknown_player";

/**
 * A bet refused on its merits: the placement service throws it, and only the
 * routes turn it into an HTTP answer (`api/bets/routes.ts`). `message` and
 * `details` reach the player as they are.
 *
 * ```ts
 * throw new BetRefused("cell_locked", "this cell's window starts too soon or has started");
 * throw new BetRefused("rate_limited", "too many bets; slow down", [], { retryAfterMs: 400 });
 * throw new BetRefused("quote_changed", "the multiplier is now 2.38×, below the 2.43× asked", [], { currentMultiplier: 2.38 });
 * ```
 */
export class BetRefused extends Error {
  /** How long the player should wait before trying again, when waiting helps. */
  readonly retryAfterMs: number | undefined;
  /** With `quote_changed`: the multiplier the cell pays now, which the player may take. */
  readonly currentMultiplier: number | undefined;

  constructor(
    readonly reason: BetRefusal,
    message: string,
    readonly details: ErrorDetail[] = [],
    { retryAfterMs, currentMultiplier }: { retryAfterMs?: number; currentMultiplier?: number } = {},
  ) {
    super(message);
    this.name = "BetRefused";
    this.retryAfterMs = retryAfterMs;
    this.currentMultiplier = currentMultiplier;
  }
}
