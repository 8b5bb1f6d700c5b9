import { expect, test } from "bun:test";
import { createPingRoundTrips } from "./ping-round-trips.ts";

test("each pong completes the oldest ping in flight; a pong with none in flight, or after forget, completes nothing", () => {
  const trips: [number, number, number][] = [];
  const roundTrips = createPingRoundTrips((sentAt, serverTs, receivedAt) => void trips.push([sentAt, serverTs, receivedAt]));
  roundTrips.ponged(1, 2);
  roundTrips.pinged(100);
  roundTrips.pinged(200);
  roundTrips.ponged(650, 210);
  roundTrips.ponged(760, 230);
  roundTrips.ponged(800, 240);
  roundTrips.pinged(300);
  roundTrips.forget();
  roundTrips.ponged(900, 310);
  expect(trips).toEqual([
    [100, 650, 210],
    [200, 760, 230],
  ]);
});
