import type { Bus } from "../../common/bus/mod.ts";
import { Channels } from "../../common/channels.ts";
import { compactGrid } from "../../common/grid-codec.ts";
import type { Logger } from "../../common/log.ts";
import type { GridService } from "./grid-service.ts";

/**
 * Publishes the grid on the bus about once a second (aligned to the second),
 * for the ws processes to push to subscribers of the `grid` channel. It goes
 * out compact (`CompactGrid`, common/grid-codec.ts): every subscriber gets it
 * every second, and the full JSON (~37 KB) was most of what ws and nginx sent.
 * Skips while there is no fresh price; never more than one publish in flight.
 *
 * ```ts
 * const publisher = startGridPublisher({ grid, bus, log });
 * publisher.stop(); // at shutdown
 * ```
 */
export function startGridPublisher({ grid, bus, log, everyMs = 1000, now = Date.now }: { grid: GridService; bus: Pick<Bus, "publish">; log: Logger; everyMs?: number; now?: () => number }) {
  let timer: Timer | undefined;
  let busy = false;
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    timer = setTimeout(tick, everyMs - (now() % everyMs));
    if (busy) return;
    const current = grid.current(now());
    if (!current) return;
    busy = true;
    try {
      await bus.publish(Channels.grid, JSON.stringify(compactGrid(current)));
    } catch (error) {
      log.warn({ err: (error as Error).message }, "could not publish the grid");
    } finally {
      busy = false;
    }
  };
  timer = setTimeout(tick, everyMs - (now() % everyMs));
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
