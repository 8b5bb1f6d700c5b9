/**
 * The venue side of bench/venues.ts, run as a child process so the load's CPU
 * is read apart from the subscriber that times the ticks: the four venue
 * doubles (test/support/venues/*.ts) on 127.0.0.1, driven on a schedule.
 *
 *   bun bench/lib/venue-feed.ts '<json Schedule>'
 *
 * Talks in JSON lines on stdout: `{"type":"ready","urls":{…}}` once the doubles
 * listen;
 * `{"type":"subscribed"}` once every venue has an accepted subscription (the
 * price service connected); then, on a line `go` on stdin, `{"type":"started","t0":…}`
 * with the schedule fixed, and `{"type":"done",…}` after the last message, with
 * each message's send time.
 * It then waits for SIGTERM.
 *
 * Every message `n` carries the same price on all four venues, `base + n`
 * dollars (bid and ask 50 cents either side), so a tick's price says which
 * messages its median took (bench/venues.ts decodes it).
 */
import { startBitfinexDouble } from "../../test/support/venues/bitfinex.ts";
import { startBitstampDouble } from "../../test/support/venues/bitstamp.ts";
import { startCoinbaseDouble } from "../../test/support/venues/coinbase.ts";
import type { VenueDoubleApi } from "../../test/support/venues/double-api.ts";
import { startKrakenDouble } from "../../test/support/venues/kraken.ts";
import { waitFor } from "../../test/support/wait.ts";

/** What the parent asks for. */
export interface Schedule {
  /** The price service's PRICE_INTERVAL_MS: its ticks fall on multiples of it. */
  intervalMs: number;
  /** Messages per second per venue; `intervalMs` must be a multiple of 1000 / rate. */
  rate: number;
  /** Grid slots to cover (warm-up included). */
  slots: number;
  /** How long before slot i its last message is sent: `leadsMs[i % leadsMs.length]`. */
  leadsMs: number[];
  /** Message n's mid is `base + n` dollars. */
  base: number;
}

/** One message, as sent to all four venues. */
export interface FeedSend {
  seq: number;
  /** When the first of its four sends began (epoch ms, sub-ms). */
  sentAt: number;
  /** When it was planned for. */
  plannedAt: number;
}

/** Epoch milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const preciseNow = () => performance.timeOrigin + performance.now();

if (import.meta.main) await main();

async function main() {
  const schedule = JSON.parse(process.argv[2] ?? "{}") as Schedule;
  const periodMs = 1000 / schedule.rate;
  const perSlot = schedule.intervalMs / periodMs;
  if (!Number.isInteger(perSlot) || perSlot < 1) throw new RangeError(`interval ${schedule.intervalMs} ms is not a multiple of ${periodMs} ms (1000 / rate)`);
  // Heartbeats once a second, as the venues send them: the price service reconnects a venue
  // silent for 5 s, and nothing else is sent while the parent waits for a quiet machine.
  const options = { heartbeatEveryMs: 1000 };
  const doubles: Record<string, VenueDoubleApi> = {
    coinbase: await startCoinbaseDouble(options),
    kraken: await startKrakenDouble(options),
    bitstamp: await startBitstampDouble(options),
    bitfinex: await startBitfinexDouble(options),
  };
  const all = Object.values(doubles);
  const stop = async () => {
    await Promise.all(all.map((double) => double.stop()));
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  const say = (message: object) => console.log(JSON.stringify(message));
  say({ type: "ready", urls: Object.fromEntries(Object.entries(doubles).map(([name, double]) => [name, double.url])) });

  await waitFor("every venue subscribed", () => all.every((double) => double.clients.length > 0 && double.subscriptions.some((s) => s.accepted)), 30_000, 20);
  say({ type: "subscribed" });
  for await (const line of console) if (line.trim() === "go") break;
  // Two slots' margin so the first message is not already late.
  const t0 = (Math.floor(Date.now() / schedule.intervalMs) + 3) * schedule.intervalMs;
  say({ type: "started", t0 });

  const plan: number[] = [];
  for (let slot = 0; slot < schedule.slots; slot++) {
    const at = t0 + slot * schedule.intervalMs;
    plan.push(at - schedule.leadsMs[slot % schedule.leadsMs.length]!);
    for (let j = 1; j < perSlot; j++) plan.push(at + j * periodMs);
  }
  const sends: FeedSend[] = [];
  const frames: Record<string, number> = Object.fromEntries(Object.keys(doubles).map((name) => [name, 0]));
  for (let seq = 0; seq < plan.length; seq++) {
    const plannedAt = plan[seq]!;
    // A timer gets within about a millisecond (it takes whole ms and fires about 0.2 ms late),
    // a short spin makes the time exact; a longer spin would take a core from the price service.
    const coarse = Math.floor(plannedAt - preciseNow() - 1);
    if (coarse > 0) await Bun.sleep(coarse);
    while (preciseNow() < plannedAt);
    const price = schedule.base + seq;
    const sentAt = preciseNow();
    for (const [name, double] of Object.entries(doubles)) frames[name]! += double.quote({ bid: price - 0.5, ask: price + 0.5 }).frames;
    sends.push({ seq, sentAt, plannedAt });
  }
  say({ type: "done", sends, frames, reconnects: Object.fromEntries(Object.entries(doubles).map(([name, double]) => [name, double.connections - 1])) });
}
