/**
 * Why a cell shown greyed is not offered: its expected return is below the grid's floor, or, when it is not, its
 * fair multiplier is above the highest paid (the cap is never a price; docs/rules.md).
 *
 * ```ts
 * unofferedReason({ rtp: 0.227, minRtp: 0.9 });
 * // "Not offered: on average this cell would pay back only 22% of the stake, below the 90% every offered cell returns. Pick a cell nearer the price."
 * unofferedReason({ rtp: 0.94, minRtp: 0.9 });
 * // "Not offered: this cell is so unlikely to be reached that a fair multiplier for it would be above the highest paid. Pick a cell nearer the price."
 * ```
 */
export function unofferedReason({ rtp, minRtp = 0.9 }: { rtp: number; minRtp?: number | undefined }): string {
  // A greyed cell returning at least the floor is greyed only for the cap (api/grid/build-grid.ts, quoteFor).
  if (rtp >= minRtp) return "Not offered: this cell is so unlikely to be reached that a fair multiplier for it would be above the highest paid. Pick a cell nearer the price.";
  const percent = (share: number) => `${Math.floor(share * 100)}%`;
  return `Not offered: on average this cell would pay back only ${percent(rtp)} of the stake, below the ${percent(minRtp)} every offered cell returns. Pick a cell nearer the price.`;
}

/**
 * Why a tapped cell cannot be taken, in words for the status line.
 *
 * ```ts
 * lockedReason({ frozen: false, startsInMs: 1200, lockMs: 2000 });
 * // "Too late: bets on a window close 2 s before it opens. Pick a cell further right."
 * ```
 */
export function lockedReason({ frozen, startsInMs, lockMs }: { frozen: boolean; startsInMs: number; lockMs: number }): string {
  if (frozen) return "Betting is paused: without a live price no cell can be taken. It resumes once prices flow again.";
  if (startsInMs <= 0) return "Too late: this window has already started. Pick a cell further right.";
  const seconds = Math.round(lockMs / 100) / 10;
  return `Too late: bets on a window close ${seconds} s before it opens. Pick a cell further right.`;
}
