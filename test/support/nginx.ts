import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findNginx, renderNginx } from "../../nginx/render.ts";
import { canConnect, freePort } from "./ports.ts";
import { waitFor } from "./wait.ts";

/** A real nginx serving the project's site from a temp prefix on a free port. */
export interface TestNginx {
  /** http://127.0.0.1:port */
  url: string;
  port: number;
  prefix: string;
  /** The access log so far, one parsed JSON record per request. */
  accessLog(): Record<string, unknown>[];
  /** What nginx wrote to stderr so far. */
  errors(): string;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * What nginx fronts: one api and one ws port, or several of each (`apiPorts`,
 * `wsPorts`: one node per port on 127.0.0.1, which win over the single port).
 *
 * ```ts
 * const one: StartNginxOptions = { apiPort, wsPort, webRoot };
 * const two: StartNginxOptions = { apiPorts: [apiA.port, apiB.port], wsPorts: [wsA, wsB] };
 * ```
 */
export interface StartNginxOptions {
  apiPort?: number;
  wsPort?: number;
  apiPorts?: readonly number[];
  wsPorts?: readonly number[];
  /** Served at `/`; the placeholder page when left out. */
  webRoot?: string;
}

/** Why nginx cannot run here, or undefined when it can. */
export function nginxUnavailable(): string | undefined {
  return findNginx() ? undefined : "nginx is not installed (scripts/setup.sh installs it: apt-get install nginx)";
}

/**
 * Renders nginx/tap-trading.conf for 127.0.0.1 on a free port in front of the
 * given ports (one node each, or several: `apiPorts`, `wsPorts`), and runs
 * nginx in the foreground until `stop`. Needs no root and never touches
 * /etc/nginx, /var/log/nginx or port 80.
 *
 * ```ts
 * await using nginx = await startNginx({ apiPort, wsPort, webRoot });
 * await fetch(`${nginx.url}/api/healthz`);
 * await using front = await startNginx({ apiPorts: [8080, 8090], wsPorts: [8081, 8091] });
 * ```
 */
export async function startNginx({ apiPort, wsPort, apiPorts, wsPorts, webRoot }: StartNginxOptions): Promise<TestNginx> {
  const prefix = mkdtempSync(join(tmpdir(), "tap-nginx-"));
  const port = await freePort();
  const nodes = (ports: readonly number[] | undefined, one: number | undefined) => (ports ?? (one === undefined ? [] : [one])).map((each) => `127.0.0.1:${each}`);
  const rendered = renderNginx({
    prefix,
    port,
    host: "127.0.0.1",
    apiUpstreams: nodes(apiPorts, apiPort),
    wsUpstreams: nodes(wsPorts, wsPort),
    ...(webRoot ? { webRoot } : {}),
  });

  const check = Bun.spawnSync(rendered.testCommand, { stdout: "pipe", stderr: "pipe" });
  if (check.exitCode !== 0) {
    rmSync(prefix, { recursive: true, force: true });
    throw new Error(`nginx -t failed on the rendered site:\n${check.stderr.toString()}`);
  }

  const proc = Bun.spawn(rendered.command, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  let stderr = "";
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) stderr += decoder.decode(chunk, { stream: true });
  })();

  const stop = async () => {
    // SIGTERM: nginx's fast shutdown, which also ends the workers (a SIGKILL to
    // the master alone would leave them behind, holding the port).
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await proc.exited;
    clearTimeout(timer);
    rmSync(prefix, { recursive: true, force: true });
  };
  try {
    await waitFor(`nginx listening on ${port}`, async () => {
      if (proc.exitCode !== null) throw new Error(`nginx exited with ${proc.exitCode}: ${stderr}`);
      return await canConnect(port);
    });
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url: rendered.url,
    port,
    prefix,
    accessLog: () => {
      let text = "";
      try {
        text = readFileSync(rendered.accessLog, "utf8");
      } catch {
        return [];
      }
      return text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    errors: () => stderr,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
