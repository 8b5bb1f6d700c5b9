/** Command-line values for the bench scripts, checked once with a message naming the flag. */

/** `raw` as a positive integer; throws naming `--name` otherwise. */
export function positiveInt(name: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`--${name} must be a positive integer, not ${raw}`);
  return value;
}

/** A comma-separated list, each item one of `allowed`; throws naming `--name` otherwise. */
export function listOf<T extends string>(name: string, raw: string, allowed: readonly T[]): T[] {
  const items = raw.split(",").map((item) => item.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw new RangeError(`--${name}: unknown "${item}" (allowed: ${allowed.join(", ")})`);
  return items as T[];
}
