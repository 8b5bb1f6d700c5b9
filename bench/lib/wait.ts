/**
 * Polls `check` until it returns a truthy value, or throws after `timeoutMs`
 * naming `what` (and the last error `check` threw, if any).
 *
 * ```ts
 * await waitFor("redis on 6379", () => canConnect(6379), { timeoutMs: 5_000 });
 * ```
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; everyMs?: number } = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, everyMs = 25 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    await Bun.sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
}
