import { expect, test } from "bun:test";
import { startSentMeter } from "./capacity-sockets.ts";

test("counts the bytes a process sent on a TCP socket during the window, and only those", async () => {
  let received = 0;
  let onDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (onDone = resolve));
  const server = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(_socket, data) {
        received += data.length;
        if (received >= 300_000) onDone();
      },
    },
  });
  const client = await Bun.connect({ hostname: "127.0.0.1", port: server.port, socket: { data() {}, drain() {} } });
  try {
    // Sent before the window: must not count.
    client.write(new Uint8Array(100_000));
    await Bun.sleep(100);
    const meter = startSentMeter({ self: process.pid });
    const chunk = new Uint8Array(50_000);
    let written = 0;
    while (written < 200_000) {
      written += client.write(chunk.subarray(0, Math.min(chunk.length, 200_000 - written)));
      await Bun.sleep(5);
    }
    await done;
    const { bytes } = meter.stop();
    expect(bytes.self).toBeGreaterThanOrEqual(200_000);
    expect(bytes.self).toBeLessThan(300_000);
  } finally {
    client.end();
    server.stop(true);
  }
});
