const KEY = "tap-trading.guest-id";

/** The part of `localStorage` used here; it may throw (storage disabled) and that is fine. */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * The player's id until guest sessions exist: random, kept in `localStorage` so a
 * reload is the same player. Fits the bet contract's `user_id` pattern.
 *
 * ```ts
 * guestId(localStorage) // "guest-k3j9x0q2m8v1"
 * ```
 */
export function guestId(store: KeyValueStore | undefined, random: () => number = Math.random): string {
  try {
    const kept = store?.getItem(KEY);
    if (kept && /^guest-[a-z0-9]{8,32}$/.test(kept)) return kept;
  } catch {
    // Storage blocked: a new id for this page load.
  }
  let suffix = "";
  while (suffix.length < 12) suffix += Math.floor(random() * 36).toString(36);
  const id = `guest-${suffix}`;
  try {
    store?.setItem(KEY, id);
  } catch {
    // Not kept; still usable for this page load.
  }
  return id;
}
