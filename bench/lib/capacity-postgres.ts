/**
 * CPU and TCP bytes sent of the PostgreSQL server processes that serve one
 * database, for bench/capacity.ts: the backends `pg_stat_activity` lists with
 * `datname` = that database (the api nodes' pooled connections). The
 * cluster's shared processes (postmaster, walwriter, checkpointer, background
 * writer) serve every database on the server, others' too, so they are not
 * charged to the run; their CPU is read apart and reported as such.
 */
import postgres from "postgres";
import { ADMIN_URL } from "../../test/support/postgres.ts";
import { readSocketBytes, socketInodes } from "./capacity-sockets.ts";
import { readCpuSeconds } from "./proc-stats.ts";

/**
 * The cluster-wide processes read apart, by `pg_stat_activity.backend_type`.
 *
 * ```ts
 * POSTGRES_SHARED_TYPES.includes("walwriter"); // true
 * ```
 */
export const POSTGRES_SHARED_TYPES = ["walwriter", "checkpointer", "background writer"] as const;

/**
 * What the run's backends did over the window.
 *
 * ```ts
 * const { cpuSeconds, bytes, sharedCpuSeconds }: PostgresWindow = await meter.stop();
 * ```
 */
export interface PostgresWindow {
  cpuSeconds: number;
  /** TCP bytes the backends sent (query results to the api nodes). */
  bytes: number;
  /** Backends at the end of the window; `started` of them appeared during it (CPU counted from their start). */
  backends: number;
  started: number;
  /** Backends present at the start and gone at the end: their CPU and bytes are not counted. */
  gone: number;
  /** walwriter + checkpointer + background writer, not charged to the run (they serve every database). */
  sharedCpuSeconds: number;
}

/**
 * Call before the load with the run's database name; `await stop()` after it.
 *
 * ```ts
 * const meter = await startPostgresMeter(stack.database!.name);
 * await load();
 * const { cpuSeconds, bytes } = await meter.stop();
 * ```
 */
export async function startPostgresMeter(database: string): Promise<{ stop(): Promise<PostgresWindow> }> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  const list = async () => {
    const rows = await admin<{ pid: number; datname: string | null; backend_type: string }[]>`
      SELECT pid, datname, backend_type FROM pg_stat_activity
      WHERE datname = ${database} OR backend_type = ANY(${[...POSTGRES_SHARED_TYPES]})`;
    return {
      backends: rows.filter((row) => row.datname === database).map((row) => row.pid),
      shared: rows.filter((row) => row.datname !== database).map((row) => row.pid),
    };
  };
  const cpuOf = (pids: number[]) => new Map(pids.map((pid) => [pid, safeCpu(pid)]));
  try {
    const first = await list();
    const bytesBefore = readSocketBytes();
    const cpuBefore = cpuOf(first.backends);
    const sharedBefore = cpuOf(first.shared);
    return {
      async stop() {
        try {
          const last = await list();
          const bytesAfter = readSocketBytes();
          const cpuAfter = cpuOf(last.backends);
          let cpuSeconds = 0;
          let bytes = 0;
          for (const [pid, end] of cpuAfter) {
            cpuSeconds += Math.max(0, end - (cpuBefore.get(pid) ?? 0));
            for (const inode of socketInodes(pid)) {
              const sent = bytesAfter.get(inode);
              if (sent !== undefined) bytes += sent - (bytesBefore.get(inode) ?? 0);
            }
          }
          let sharedCpuSeconds = 0;
          for (const [pid, end] of cpuOf(last.shared)) sharedCpuSeconds += end - (sharedBefore.get(pid) ?? end);
          return {
            cpuSeconds,
            bytes,
            backends: cpuAfter.size,
            started: [...cpuAfter.keys()].filter((pid) => !cpuBefore.has(pid)).length,
            gone: [...cpuBefore.keys()].filter((pid) => !cpuAfter.has(pid)).length,
            sharedCpuSeconds,
          };
        } finally {
          await admin.end({ timeout: 1 });
        }
      },
    };
  } catch (error) {
    await admin.end({ timeout: 1 });
    throw error;
  }
}

/** CPU seconds of one process alone (a backend has no children), 0 when it has gone. */
function safeCpu(pid: number): number {
  try {
    return readCpuSeconds(pid, { descendants: false });
  } catch {
    return 0;
  }
}
