/**
 * Holds N websocket clients open that only listen (prices by default), as idle
 * players would, in a process of its own so that reading their frames does not
 * delay the measuring process. Prints "ready" once all are open; exits on SIGTERM.
 *
 *   bun bench/lib/idle-clients.ts <ws-url> <count>
 */
export {};

const [url, countText] = process.argv.slice(2);
const count = Number(countText);
if (!url || !Number.isInteger(count) || count < 0) {
  process.stderr.write("usage: bun bench/lib/idle-clients.ts <ws-url> <count>\n");
  process.exit(2);
}
const sockets: WebSocket[] = [];
let received = 0;
for (let i = 0; i < count; i += 250) {
  await Promise.all(
    Array.from(
      { length: Math.min(250, count - i) },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = new WebSocket(url);
          socket.onopen = () => resolve();
          socket.onerror = () => reject(new Error("websocket failed"));
          socket.onmessage = () => {
            received++;
          };
          sockets.push(socket);
        }),
    ),
  );
}
process.stdout.write("ready\n");
process.on("SIGTERM", () => {
  process.stdout.write(`received ${received}\n`);
  for (const socket of sockets) socket.close();
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
