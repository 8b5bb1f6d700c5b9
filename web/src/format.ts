const priceFormat = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const bandFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });

/**
 * `42012.3` → `42,012.30`
 *
 * ```ts
 * formatPrice(42012.3); // "42,012.30"
 * ```
 */
export const formatPrice = (price: number): string => priceFormat.format(price);

/**
 * `42010` → `42,010`: band edges are whole tens, shown without cents.
 *
 * ```ts
 * formatBand(42010); // "42,010"
 * ```
 */
export const formatBand = (price: number): string => bandFormat.format(price);

/**
 * `5` → `$5`, `2.5` → `$2.50`
 *
 * ```ts
 * formatStake(2.5); // "$2.50"
 * ```
 */
export function formatStake(amount: number): string {
  return Number.isInteger(amount) ? `$${amount}` : `$${amount.toFixed(2)}`;
}

/**
 * `+12.34 (+0.03%)`
 *
 * ```ts
 * formatChange(12.34, 42_000); // "+12.34 (+0.03%)"
 * ```
 */
export function formatChange(change: number, base: number): string {
  const sign = change > 0 ? "+" : change < 0 ? "−" : "±";
  const percent = base > 0 ? (Math.abs(change) / base) * 100 : 0;
  return `${sign}${priceFormat.format(Math.abs(change))} (${sign}${percent.toFixed(2)}%)`;
}

/**
 * Local wall-clock time `12:00:05`.
 *
 * ```ts
 * formatClock(Date.now()); // e.g. "12:00:05"
 * ```
 */
export function formatClock(t: number): string {
  const d = new Date(t);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/**
 * `2.35` → `2.35×`, `12.37` → `12.3×`, `100` → `100×`: shorter for larger ones, never rounded up.
 *
 * ```ts
 * formatMultiplier(12.37); // "12.3×"
 * ```
 */
export function formatMultiplier(multiplier: number): string {
  if (multiplier < 10) return `${multiplier.toFixed(2)}×`;
  if (multiplier < 100) return `${(Math.floor(multiplier * 10) / 10).toFixed(1)}×`;
  return `${Math.floor(multiplier)}×`;
}

/**
 * `1234.5` → `$1,234.50`: a balance, always with cents.
 *
 * ```ts
 * formatBalance(1234.5); // "$1,234.50"
 * ```
 */
export const formatBalance = (amount: number): string => `$${priceFormat.format(amount)}`;
