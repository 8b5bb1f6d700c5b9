import type { Bus } from "../../common/bus/mod.ts";
import { Channels } from "../../common/channels.ts";
import { compactGrid } from "../../common/grid-codec.ts";
import type { Logger } from "../../common/log.ts";
import type { GridService } from "./grid-service.ts";

/**
 * How far into each second the grid is published, ms: half a second from the
 * price service's ticks, which fall on the whole second at its default 1 s
 * interval. Published together, the tick and the grid reached every socket in
 * one burst, and taps and ticks queued behind it (docs/scaling.md).
 *
 * ```ts
 * startGridPublisher({ grid, bus, log, phaseMs: GRID_PUBLISH_PHASE_MS });
 * ```
 */
export const GRID_PUBLISH_PHASE_MS = 500;

/**
 * How long from `now` to the next publish: the next multiple of `everyMs`
 * plus `phaseMs`, a whole `everyMs` when `now` is on it.
 *
 * ```ts
 * msUntilNextPublish(1_767_225_600_200, 1000, 500); // 300
 * msUntilNextPublish(1_767_225_600_700, 1000, 500); // 800
 * ```
 */
export function msUntilNextPublish(now: number, everyMs: number, phaseMs: number): number {
  return everyMs - ((((now - phaseMs) % everyMs) + everyMs) % everyMs);
}

/**
 * Publishes the grid on the bus about once a second (`phaseMs` into each
 * second, `GRID_PUBLISH_PHASE_MS`), for the ws processes to push to
 * subscribers of the `grid` channel. It goes out compact (`CompactGrid`,
 * common/grid-codec.ts): every subscriber gets it every second, and the full
 * JSON (~37 KB) was most of the bytes ws and nginx sent. Skips while there is
 * no fresh price; never more than one publish in flight.
 *
 * ```ts
 * const publisher = startGridPublisher({ grid, bus, log });
 * publisher.stop(); // at shutdown
 * ```
 */
export function startGridPublisher({
  grid,
  bus,
  log,
  everyMs = 1000,
  phaseMs = GRID_PUBLISH_PHASE_MS,
  now = Date.now,
}: { grid: GridService; bus: Pick<Bus, "publish">; log: Logger; everyMs?: number; phaseMs?: number; now?: () => number }) {
  const untilNext = () => msUntilNextPublish(now(), everyMs, phaseMs);
  let timer: Timer | undefined;
  let busy = false;
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    timer = setTimeout(tick, untilNext());
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
  timer = setTimeout(tick, untilNext());
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
