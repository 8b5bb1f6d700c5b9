/**
 * Converts a decimal amount with at most two places to integer cents, or
 * returns undefined when it has more places (or is not finite).
 *
 * ```ts
 * toCents(12.34) // 1234
 * toCents(0.07)  // 7   (binary float noise is tolerated)
 * toCents(1.005) // undefined
 * ```
 */
export function toCents(amount: number): number | undefined {
  if (!Number.isFinite(amount)) return undefined;
  const cents = Math.round(amount * 100);
  return Math.abs(cents - amount * 100) < 1e-6 ? cents : undefined;
}

/** Integer cents back to a decimal number for the wire. */
export function fromCents(cents: number): number {
  return cents / 100;
}
