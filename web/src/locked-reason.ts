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
