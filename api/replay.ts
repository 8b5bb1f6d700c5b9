/**
 * The settlement audit: settles a time range again from the ticks stored in
 * Redis, into a scratch copy of the database, and reports every difference
 * from what was recorded. Exit 0 when none, 1 when any, 2 on bad usage.
 *
 *   bun api/replay.ts --db /data/bets.db --from <ms> --to <ms> [--scratch /tmp/replay.db]
 *   (REDIS_URL or REDIS_ADDR says where the ticks are; STALE_MS and SETTLE_GRACE_MS as the API's)
 */
import { parseArgs } from "node:util";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { redisUrlFrom } from "../common/config.ts";
import type { Tick } from "../common/contracts/price.ts";
import { createRedisTickStore } from "../common/prices/tick-store.ts";
import { replaySettlement } from "./settlement/replay.ts";

const { values } = parseArgs({
  options: { db: { type: "string" }, from: { type: "string" }, to: { type: "string" }, scratch: { type: "string" } },
});
const from = Number(values.from);
const to = Number(values.to);
if (!values.db || !Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from > to) {
  process.stderr.write("usage: bun api/replay.ts --db <path> --from <ms> --to <ms> [--scratch <path>]\n");
  process.exit(2);
}
const staleMs = Number(process.env.STALE_MS ?? 5000);
const graceMs = Number(process.env.SETTLE_GRACE_MS ?? 2000);

const redis = new Redis(redisUrlFrom(process.env), { maxRetriesPerRequest: 2 });
const store = createRedisTickStore(redis, { retentionMs: 0 });
// Ticks from well before the earliest window that could end in the range, in pages.
const ticks: Tick[] = [];
for (let cursor = from - 3_600_000 - staleMs; cursor <= to + graceMs + staleMs; ) {
  const page = await store.range(cursor, to + graceMs + staleMs, 5000);
  ticks.push(...page);
  const last = page.at(-1);
  if (page.length < 5000 || !last) break;
  cursor = last.ts + 1;
}
redis.disconnect();

const report = replaySettlement({
  dbPath: values.db,
  scratchPath: values.scratch ?? join(tmpdir(), `tap-replay-${process.pid}.db`),
  from,
  to,
  ticks,
  staleMs,
  graceMs,
});
await Bun.write(Bun.stdout, `${JSON.stringify({ ticks: ticks.length, ...report }, null, 2)}\n`);
process.exit(report.differences.length === 0 ? 0 : 1);
