import { createServer } from "node:net";

/**
 * Whether nothing listens on `port`. It probes the wildcard address, which
 * collides with a listener on any local address (127.0.0.1 included).
 *
 * ```ts
 * if (!(await isPortFree(8080))) console.error("port 8080 is in use");
 * ```
 */
export async function isPortFree(port: number, host = "0.0.0.0"): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the OS reports free right now on `host`. */
export async function anyFreePort(host = "127.0.0.1"): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("the OS gave no port"))));
    });
  });
}

/** `preferred` when it is free, else any free port: never one that something already listens on. */
export async function pickPort(preferred: number): Promise<number> {
  return (await isPortFree(preferred)) ? preferred : await anyFreePort();
}

/**
 * nginx's port when none is asked for: 80 as production uses when this process
 * may bind it (root) and nothing listens there, else 8000 or any free port.
 *
 * ```ts
 * const port = await pickHttpPort(process.getuid?.() === 0); // 80, 8000 or e.g. 41234
 * ```
 */
export async function pickHttpPort(isRoot: boolean): Promise<number> {
  if (isRoot && (await isPortFree(80))) return 80;
  return await pickPort(8000);
}
