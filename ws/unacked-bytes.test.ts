import { describe, expect, test } from "bun:test";
import { createUnackedBytes, type Delivery, frameBytes, newDelivery, type PingableSocket } from "./unacked-bytes.ts";

/** A socket that records its pings, and a client that answers them (or not). */
function fakeSocket(): PingableSocket & { pings: string[]; answer(acks: ReturnType<typeof createUnackedBytes>): void } {
  const pings: string[] = [];
  const data: Delivery = newDelivery();
  return {
    data,
    pings,
    ping(payload?: string) {
      pings.push(payload ?? "");
    },
    /** Reads everything so far: answers each ping not yet answered, in order. */
    answer(acks) {
      for (const payload of pings.splice(0)) acks.pong(data, Buffer.from(payload));
    },
  };
}

const LIMIT = 10_000;
const GRACE = 2_000;
const SWEEP = 500;

describe("unacked bytes", () => {
  test("a connection is sent its direct sends and, per topic, what was published there while it was a member", () => {
    const acks = createUnackedBytes({ limitBytes: LIMIT, graceMs: GRACE });
    const a = newDelivery();
    const b = newDelivery();
    acks.published("grid", 500); // nobody there yet: counted for nobody
    acks.joined(a, "grid");
    acks.published("grid", 100);
    acks.joined(b, "grid");
    acks.joined(b, "grid"); // twice is once
    acks.published("grid", 40);
    acks.sent(a, 7);
    expect(acks.sentTo(a)).toBe(147);
    expect(acks.sentTo(b)).toBe(40);
    acks.left(a, "grid");
    acks.published("grid", 1000);
    expect(acks.sentTo(a)).toBe(147);
    expect(acks.sentTo(b)).toBe(1040);
    expect(acks.topics).toBe(1);
    acks.closed(b);
    expect(acks.topics).toBe(0);
    expect(acks.sentTo(b)).toBe(1040);
  });

  test("a frame's size counts its header", () => {
    expect(frameBytes(0)).toBe(2);
    expect(frameBytes(125)).toBe(127);
    expect(frameBytes(126)).toBe(130);
    expect(frameBytes(65_536)).toBe(65_546);
  });

  test("pings go out once half the limit has been sent since the last one, carrying the count", () => {
    const acks = createUnackedBytes({ limitBytes: LIMIT, graceMs: GRACE });
    const ws = fakeSocket();
    acks.joined(ws.data, "prices#0");
    acks.published("prices#0", 4_999);
    expect(acks.check(ws, 0)).toBe(false);
    expect(ws.pings).toEqual([]);
    acks.published("prices#0", 1);
    acks.check(ws, SWEEP);
    expect(ws.pings).toEqual(["5000"]);
    acks.check(ws, 2 * SWEEP);
    expect(ws.pings).toEqual(["5000"]);
  });

  test("a client that stops reading is reported once it has stayed over the limit for the grace, not before", () => {
    const acks = createUnackedBytes({ limitBytes: LIMIT, graceMs: GRACE });
    const ws = fakeSocket();
    acks.joined(ws.data, "grid");
    let overAt: number | undefined;
    for (let now = 0; now <= 20_000; now += SWEEP) {
      acks.published("grid", 1_000); // 2 kB/s, never read
      if (overAt === undefined && ws.data.pingedAt - ws.data.acked > LIMIT) overAt = now;
      if (acks.check(ws, now)) {
        expect(overAt).toBeDefined();
        expect(now - overAt!).toBeGreaterThanOrEqual(GRACE);
        expect(now - overAt!).toBeLessThanOrEqual(GRACE + SWEEP);
        expect(acks.unacked(ws.data)).toBeGreaterThan(LIMIT);
        return;
      }
    }
    throw new Error("the slow client was never reported");
  });

  test("a client that reads everything is never reported, however fast it is sent (a burst far over the limit)", () => {
    const acks = createUnackedBytes({ limitBytes: LIMIT, graceMs: GRACE });
    const ws = fakeSocket();
    acks.joined(ws.data, "grid");
    for (let now = 0; now <= 20_000; now += SWEEP) {
      acks.published("grid", 50 * LIMIT);
      expect(acks.check(ws, now)).toBe(false);
      ws.answer(acks); // within a sweep
    }
    expect(ws.data.acked).toBeGreaterThan(0);
  });

  test("a client that catches up within the grace is not reported, and its grace starts again", () => {
    const acks = createUnackedBytes({ limitBytes: LIMIT, graceMs: GRACE });
    const ws = fakeSocket();
    acks.joined(ws.data, "grid");
    let now = 0;
    const stall = () => {
      for (let i = 0; i < 5; i++, now += SWEEP) {
        acks.published("grid", 4 * LIMIT);
        expect(acks.check(ws, now)).toBe(false);
      }
    };
    stall(); // 2 s behind
    ws.answer(acks);
    acks.check(ws, now);
    expect(Number.isNaN(ws.data.overSince)).toBe(true);
    stall();
  });

  test("a pong acknowledges only a count this connection was pinged with, oldest first", () => {
    const acks = createUnackedBytes({ limitBytes: LIMIT, graceMs: GRACE });
    const ws = fakeSocket();
    acks.joined(ws.data, "grid");
    acks.published("grid", 6_000);
    acks.check(ws, 0);
    acks.published("grid", 6_000);
    acks.check(ws, SWEEP);
    expect(ws.pings).toEqual(["6000", "12000"]);
    // Forged or stray pongs: an empty one (Bun's own pings), a guess, a huge number, not a number.
    for (const forged of ["", "11999", "99999999999", "12e3", "-1", "1".repeat(40)]) acks.pong(ws.data, Buffer.from(forged));
    expect(ws.data.acked).toBe(0);
    acks.pong(ws.data, Buffer.from("12000"));
    expect(ws.data.acked).toBe(12_000);
    expect(ws.data.pings).toEqual([]);
    // A late answer to the older ping acknowledges nothing more.
    acks.pong(ws.data, Buffer.from("6000"));
    expect(ws.data.acked).toBe(12_000);
  });

  test("at most four pings are remembered; the heartbeat's ping carries the count too", () => {
    const acks = createUnackedBytes({ limitBytes: LIMIT, graceMs: GRACE });
    const ws = fakeSocket();
    acks.sent(ws.data, 100);
    acks.ping(ws);
    expect(ws.pings).toEqual(["100"]);
    for (let i = 0; i < 6; i++) {
      acks.sent(ws.data, 10);
      acks.ping(ws);
    }
    expect(ws.data.pings).toEqual([130, 140, 150, 160]);
    acks.pong(ws.data, Buffer.from("100"));
    expect(ws.data.acked).toBe(0);
    acks.pong(ws.data, Buffer.from("160"));
    expect(ws.data.acked).toBe(160);
  });

  test("options are checked", () => {
    expect(() => createUnackedBytes({ limitBytes: 0, graceMs: 1 })).toThrow(RangeError);
    expect(() => createUnackedBytes({ limitBytes: 1, graceMs: -1 })).toThrow(RangeError);
  });
});
