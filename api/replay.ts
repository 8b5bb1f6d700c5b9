/**
 * The settlement audit: settles a time range again from the ticks the API
 * judged (the database's own \`ticks\` table), into a scratch copy of the
 * database, and reports every difference from what was recorded. Exit 0 when
 * none, 1 when any, 2 on bad usage, 78 on a bad setting (named, as the
 * services do).
 *
 *   bun api/replay.ts --db /data/bets.db --from <ms> --to <ms> [--scratch /tmp/replay.db]
 *   (STALE_MS, SETTLE_GRACE_MS and SETTLE_TIMEOUT_MS as the API's, read and checked by the same spec)
 */
import { Database } from "bun:sqlite";
import { parseArgs } from "node:util";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configOrExit, loadConfig } from "../common/config.ts";
import { settlementVars } from "./settlement/config.ts";
import { replaySettlement } from "./settlement/replay.ts";
import { createTickLog } from "./settlement/tick-log.ts";

const { values } = parseArgs({
  options: { db: { type: "string" }, from: { type: "string" }, to: { type: "string" }, scratch: { type: "string" } },
});
const from = Number(values.from);
const to = Number(values.to);
if (!values.db || !Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from > to) {
  process.stderr.write("usage: bun api/replay.ts --db <path> --from <ms> --to <ms> [--scratch <path>]\n");
  process.exit(2);
}
const { staleMs, settleGraceMs: graceMs, settleTimeoutMs: timeoutMs } = configOrExit("replay", () => loadConfig(settlementVars, process.env));

/** The longest a window can be (COLUMN_MS's maximum, api/config.ts). */
const MAX_WINDOW_MS = 3_600_000;

// From well before the earliest window that could end in the range to the last tick that could still decide one.
const db = new Database(values.db, { readonly: true });
const ticks = createTickLog(db).range(from - MAX_WINDOW_MS - staleMs, to + timeoutMs);
db.close();

const report = replaySettlement({
  dbPath: values.db,
  scratchPath: values.scratch ?? join(tmpdir(), `tap-replay-${process.pid}.db`),
  from,
  to,
  ticks,
  staleMs,
  graceMs,
  timeoutMs,
});
await Bun.write(Bun.stdout, `${JSON.stringify({ ticks: ticks.length, ...report }, null, 2)}\n`);
process.exit(report.differences.length === 0 ? 0 : 1);
