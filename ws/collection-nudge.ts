/**
 * Asks for a garbage collection after every `every` opened connections.
 *
 * A storm of connections (every client coming back after a restart) leaves
 * upgrade garbage (requests, headers, strings) faster than JSC's growth-based
 * schedule collects it, so ws's resident memory peaked during the storm, ~4 MB
 * above where it settled at 5,000 clients. `Bun.gc(false)` only schedules a
 * collection (~0.1 ms on the calling thread), so one per thousand connections
 * costs next to nothing.
 *
 * ```ts
 * const nudge = createCollectionNudge(1000, () => Bun.gc(false));
 * nudge.opened(); // in the websocket open handler
 * ```
 */
export function createCollectionNudge(every: number, collect: () => void): { opened(): void } {
  if (!Number.isInteger(every) || every < 1) throw new RangeError(`every must be a positive integer, got ${every}`);
  let opened = 0;
  return {
    opened() {
      if (++opened < every) return;
      opened = 0;
      collect();
    },
  };
}
