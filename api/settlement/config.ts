import { Type as t } from "@sinclair/typebox";
import { envVar } from "../../common/config.ts";

/**
 * The settings settlement decides by (docs/rules.md), read the same way by the
 * API (api/config.ts) and the audit (api/replay.ts), so both judge a window alike.
 *
 * ```ts
 * const { staleMs, settleGraceMs, settleTimeoutMs } = configOrExit("replay", () => loadConfig(settlementVars, process.env));
 * ```
 */
export const settlementVars = {
  /** A price older than this is stale: no bet is priced from it, and a window it covers is not observed. */
  staleMs: envVar({ name: "STALE_MS", schema: t.Integer({ minimum: 100, maximum: 3_600_000 }), fallback: 5000 }),
  /** How long after a window closes settlement waits for a tick before it reads the history and voids an unobserved window. */
  settleGraceMs: envVar({ name: "SETTLE_GRACE_MS", schema: t.Integer({ minimum: 0, maximum: 600_000 }), fallback: 2000 }),
  /** A window with no tick within this long after it closed is void (docs/rules.md). */
  settleTimeoutMs: envVar({ name: "SETTLE_TIMEOUT_MS", schema: t.Integer({ minimum: 1000, maximum: 3_600_000 }), fallback: 60_000 }),
};
