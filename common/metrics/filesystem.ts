/**
 * The filesystem that holds the database, as Prometheus sees it: its size and
 * its free space, read with statfs(2) when Prometheus scrapes. A disk that
 * fills stops every bet (SQLite cannot grow its WAL), and no other metric of
 * ours says how full it is (deploy/monitoring/alerts.yml alerts at 80 %).
 */
import { type StatsFs, statfsSync } from "node:fs";
import { dirname } from "node:path";
import { gaugeReading } from "./registry.ts";

/**
 * Exports `tap_db_filesystem_size_bytes`, `tap_db_filesystem_free_bytes`
 * and `tap_db_filesystem_avail_bytes` for the filesystem of the database at
 * `dbPath` (its directory: the database and its WAL live there). `free`
 * counts the blocks reserved for root, `avail` only what an unprivileged
 * process (the services' users) may still write; `df`'s Use% is
 * (size − free) / (size − free + avail). Nothing is exported for an in-memory
 * database, and no series while the directory cannot be read.
 *
 * ```ts
 * dbFilesystemMetrics("/var/lib/tap-trading/bets.db");
 * ```
 */
export function dbFilesystemMetrics(dbPath: string): void {
  if (dbPath === ":memory:") return;
  const directory = dirname(dbPath);
  // A statfs per gauge and scrape: a few µs, and nothing kept between scrapes.
  const bytes = (blocks: (stats: StatsFs) => number) => (set: (value: number) => void) => {
    let stats: StatsFs;
    try {
      stats = statfsSync(directory);
    } catch {
      return; // the directory is gone or unreadable: no series rather than a wrong figure
    }
    set(blocks(stats) * stats.bsize);
  };
  gaugeReading({ name: "tap_db_filesystem_size_bytes", help: "Size of the filesystem that holds the database, in bytes (statfs at scrape)." }, bytes((stats) => stats.blocks));
  gaugeReading({ name: "tap_db_filesystem_free_bytes", help: "Free space on the database's filesystem, in bytes, the blocks reserved for root included." }, bytes((stats) => stats.bfree));
  gaugeReading({ name: "tap_db_filesystem_avail_bytes", help: "Space on the database's filesystem an unprivileged process may still write, in bytes." }, bytes((stats) => stats.bavail));
}
