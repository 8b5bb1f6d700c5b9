import { expect, test } from "bun:test";
import { freePort } from "../test/support/ports.ts";
import { liveTicksWithin } from "./smoke.ts";

test("the websocket check waits for a ws that starts listening after it began, and takes only live ticks", async () => {
  const port = await freePort();
  const checking = liveTicksWithin(`ws://127.0.0.1:${port}/ws`, 5_000);
  await Bun.sleep(600);
  const server = Bun.serve({
    port,
    hostname: "127.0.0.1",
    fetch: (request, srv) => (srv.upgrade(request) ? undefined : new Response("no", { status: 400 })),
    websocket: {
      open(ws) {
        // A replayed old tick first, then live ones.
        ws.send(JSON.stringify({ type: "price", symbol: "BTC-USD", price: 1, ts: Date.now() - 60_000 }));
        for (const price of [2, 3]) ws.send(JSON.stringify({ type: "price", symbol: "BTC-USD", price, ts: Date.now() }));
      },
      message() {},
    },
  });
  try {
    expect(await checking).toMatchObject({ price: 2, received: 2 });
  } finally {
    await server.stop(true);
  }
});

test("a ws that never listens fails the check at its deadline, saying how often it tried", async () => {
  const port = await freePort();
  const started = Date.now();
  await expect(liveTicksWithin(`ws://127.0.0.1:${port}/ws`, 1_000)).rejects.toThrow(/failed \(\d+ tries\)/);
  expect(Date.now() - started).toBeGreaterThanOrEqual(700);
});
