import { readMachineCpu } from "./proc-stats.ts";

/** How busy the machine was just before a run, and how long we waited for that. */
export interface Quiet {
  busyPercent: number;
  waitedSeconds: number;
  /** False when the machine never got quiet within the wait: the run went ahead anyway. */
  quiet: boolean;
}

/**
 * Waits (up to `maxWaitSeconds`) for a one-second window in which the whole
 * machine is at most `maxBusyPercent` busy, so a run does not start while
 * something else (another test suite, a build) holds a core. On a shared
 * 2-core machine this removes most of the noise between rounds.
 *
 * ```ts
 * const before = await waitForQuiet({ maxBusyPercent: 15, maxWaitSeconds: 60 });
 * if (!before.quiet) console.warn(`machine ${before.busyPercent}% busy; running anyway`);
 * ```
 */
export async function waitForQuiet(options: { maxBusyPercent?: number; maxWaitSeconds?: number } = {}): Promise<Quiet> {
  const { maxBusyPercent = 15, maxWaitSeconds = 60 } = options;
  const started = performance.now();
  let busyPercent = Number.NaN;
  do {
    const before = readMachineCpu();
    await Bun.sleep(1_000);
    const after = readMachineCpu();
    busyPercent = ((after.busy - before.busy) / (after.total - before.total)) * 100;
    if (busyPercent <= maxBusyPercent) return { busyPercent, waitedSeconds: (performance.now() - started) / 1000, quiet: true };
  } while (performance.now() - started < maxWaitSeconds * 1000);
  return { busyPercent, waitedSeconds: (performance.now() - started) / 1000, quiet: false };
}
