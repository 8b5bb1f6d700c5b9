/** A number's shortest round-trip decimal with at most two places; exponents (`1e-7`, `1e+21`) never match. */
const TWO_PLACES = /^(-?)(\d+)(?:\.(\d{1,2}))?$/;

/**
 * Converts a decimal amount with at most two places to integer cents, or
 * returns undefined when it has more places, is not finite, or its cents are
 * past the safe integers.
 *
 * `String(amount)` is the shortest decimal that reads back as the same
 * number, so it shows exactly the places the amount was written with:
 * 0.07 is "0.07" though its binary value is not, and 99.999999999 keeps
 * its nine places instead of rounding to 100.
 *
 * ```ts
 * toCents(12.34)        // 1234
 * toCents(0.07)         // 7
 * toCents(1.005)        // undefined
 * toCents(99.999999999) // undefined
 * ```
 */
export function toCents(amount: number): number | undefined {
  const parts = TWO_PLACES.exec(String(amount));
  if (!parts) return undefined;
  const [, sign, whole, places = ""] = parts as unknown as [string, string, string, string | undefined];
  const cents = Number(whole) * 100 + Number(places.padEnd(2, "0"));
  if (!Number.isSafeInteger(cents)) return undefined;
  return sign ? -cents : cents;
}

/**
 * Integer cents back to a decimal number for the wire.
 *
 * ```ts
 * fromCents(1234) // 12.34
 * ```
 */
export function fromCents(cents: number): number {
  return cents / 100;
}
