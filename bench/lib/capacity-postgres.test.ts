import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import { createTempDatabase, postgresMissing, type TempDatabase } from "../../test/support/postgres.ts";
import { startPostgresMeter } from "./capacity-postgres.ts";

setDefaultTimeout(30_000);

const missing = await postgresMissing();
if (missing) console.warn(`bench/lib/capacity-postgres.test.ts skipped: ${missing}`);

describe.skipIf(Boolean(missing))("startPostgresMeter", () => {
  let database: TempDatabase;
  beforeAll(async () => {
    database = await createTempDatabase("tap_capacity_meter");
  });
  afterAll(async () => {
    await database?.drop();
  });

  test("charges the backends of its database: the bytes they sent, and counts one opened during the window", async () => {
    const early = postgres(database.url, { max: 1, onnotice: () => {} });
    await early`SELECT 1`;
    const meter = await startPostgresMeter(database.name);
    const late = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      // ~1 MB of results from each connection: bytes the backends send on their TCP sockets.
      await early`SELECT repeat('x', 1000) FROM generate_series(1, 1000)`;
      await late`SELECT repeat('x', 1000) FROM generate_series(1, 1000)`;
      const window = await meter.stop();
      expect(window.backends).toBe(2);
      expect(window.started).toBe(1);
      expect(window.gone).toBe(0);
      expect(window.bytes).toBeGreaterThan(2_000_000);
      expect(window.cpuSeconds).toBeGreaterThanOrEqual(0);
    } finally {
      await early.end({ timeout: 1 });
      await late.end({ timeout: 1 });
    }
  });
});
