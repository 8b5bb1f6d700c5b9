/**
 * A stand-in service for the supervisor's tests, steered by its environment:
 * FAKE_PORT serves GET /healthz, FAKE_ON_TERM=ignore survives SIGTERM,
 * FAKE_EXIT_AFTER_MS exits with code 3 on its own.
 */
const serviceName = process.env.FAKE_NAME ?? "fake";
const log = (msg: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ level: "info", time: new Date().toISOString(), component: serviceName, msg, ...fields }));

process.on("SIGTERM", () => {
  if (process.env.FAKE_ON_TERM === "ignore") return log("ignoring SIGTERM");
  log("got SIGTERM");
  process.exit(0);
});

const port = Number(process.env.FAKE_PORT ?? 0);
const server = port ? Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("ok") }) : undefined;
log("listening", { port: server?.port ?? null });
console.error("a plain stderr line");

const exitAfter = Number(process.env.FAKE_EXIT_AFTER_MS ?? 0);
if (exitAfter) setTimeout(() => process.exit(3), exitAfter);
setInterval(() => {}, 60_000);
