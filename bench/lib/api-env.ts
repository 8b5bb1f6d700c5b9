/**
 * More settings for the API from a bench's `--api-env KEY=VALUE,…` (e.g.
 * `DB_SYNC=normal,QUOTE_HORIZON_MS=0`), so a run can compare settings
 * without editing code.
 *
 * ```ts
 * parseApiEnv("DB_SYNC=normal, PG_BATCHES_IN_FLIGHT=2"); // { DB_SYNC: "normal", PG_BATCHES_IN_FLIGHT: "2" }
 * ```
 */
export function parseApiEnv(raw: string): Record<string, string> {
  return Object.fromEntries(
    raw
      .split(",")
      .filter((pair) => pair.trim() !== "")
      .map((pair) => {
        const at = pair.indexOf("=");
        if (at <= 0) throw new RangeError(`--api-env takes KEY=VALUE pairs, not ${pair}`);
        return [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
      }),
  );
}
