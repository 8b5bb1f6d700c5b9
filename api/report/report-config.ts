import { Type as t } from "@sinclair/typebox";
import { envVar } from "../../common/config.ts";
import { settlementVars } from "../settlement/config.ts";

/**
 * What `api report` reads from the environment, by the API's names and
 * defaults (api/config.ts), so it judges with the settings the API runs with;
 * a test checks that both read the same values.
 *
 * ```ts
 * const { dbPath, houseEdge, settleTimeoutMs } = loadConfig(reportVars, process.env);
 * ```
 */
export const reportVars = {
  dbPath: envVar({ name: "DB_PATH", schema: t.String({ minLength: 1 }), fallback: "data/bets.db" }),
  houseEdge: envVar({ name: "HOUSE_EDGE", schema: t.Number({ minimum: 0, maximum: 0.5 }), fallback: 0.05 }),
  settleTimeoutMs: settlementVars.settleTimeoutMs,
};
