/**
 * A stand-in for Nginx when developing the page: serves the built files at `/`,
 * forwards `/api/` to the API and `/ws` to the websocket service, so the page's
 * relative URLs work exactly as they do behind Nginx.
 *
 *   bun web/dev-server.ts --dir dist/web --api http://127.0.0.1:8080 --ws http://127.0.0.1:8081 --port 8000
 *
 * Not for production: Nginx (nginx/) does this there.
 */
import type { Server, ServerWebSocket } from "bun";
import { join, normalize } from "node:path";
import { parseArgs } from "node:util";

export interface DevServerOptions {
  /** The built page (`bun web/build.ts`). */
  dir: string;
  /** Base URL of the API, e.g. `http://127.0.0.1:8080`. */
  api: string;
  /** Base URL of the websocket service, e.g. `http://127.0.0.1:8081`. */
  ws: string;
  /** 0 picks a free port. */
  port?: number;
  hostname?: string;
}

interface Pipe {
  upstream: WebSocket | undefined;
  /** Messages the browser sent before the upstream socket opened. */
  queued: (string | Uint8Array)[];
}

/** Starts the dev server; `stop()` closes it and every proxied socket. */
export function startDevServer({ dir, api, ws, port = 0, hostname = "127.0.0.1" }: DevServerOptions): Server<Pipe> {
  const root = normalize(dir);
  const wsUpstream = `${ws.replace(/^http/, "ws").replace(/\/$/, "")}/ws`;
  return Bun.serve<Pipe>({
    port,
    hostname,
    async fetch(request, server) {
      const url = new URL(request.url);
      if (url.pathname === "/ws") {
        return server.upgrade(request, { data: { upstream: undefined, queued: [] } }) ? undefined : new Response("expected a websocket", { status: 426 });
      }
      if (url.pathname.startsWith("/api/")) {
        const headers = new Headers(request.headers);
        headers.set("x-forwarded-for", server.requestIP(request)?.address ?? "");
        try {
          return await fetch(`${api.replace(/\/$/, "")}${url.pathname}${url.search}`, {
            method: request.method,
            headers,
            ...(request.method === "GET" || request.method === "HEAD" ? {} : { body: await request.arrayBuffer() }),
            redirect: "manual",
          });
        } catch {
          return new Response("bad gateway", { status: 502 });
        }
      }
      const path = normalize(join(root, url.pathname === "/" ? "index.html" : url.pathname));
      if (!path.startsWith(root)) return new Response("not found", { status: 404 });
      const file = Bun.file(path);
      if (!(await file.exists())) return new Response("not found", { status: 404 });
      const immutable = /-[a-z0-9]{8}\.(js|css|svg)$/.test(path);
      return new Response(file, { headers: { "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache" } });
    },
    websocket: {
      open(client: ServerWebSocket<Pipe>) {
        const upstream = new WebSocket(wsUpstream);
        client.data.upstream = upstream;
        upstream.binaryType = "arraybuffer";
        upstream.onopen = () => {
          for (const message of client.data.queued) upstream.send(message);
          client.data.queued = [];
        };
        upstream.onmessage = (event) => client.send(typeof event.data === "string" ? event.data : new Uint8Array(event.data as ArrayBuffer));
        upstream.onclose = (event) => client.close(event.code === 1005 || event.code === 1006 ? 1011 : event.code, event.reason);
        upstream.onerror = () => client.close(1011, "upstream unavailable");
      },
      message(client, message) {
        const upstream = client.data.upstream;
        if (upstream?.readyState === WebSocket.OPEN) upstream.send(message);
        else client.data.queued.push(message);
      },
      close(client) {
        client.data.upstream?.close();
      },
    },
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      dir: { type: "string", default: "dist/web" },
      api: { type: "string", default: "http://127.0.0.1:8080" },
      ws: { type: "string", default: "http://127.0.0.1:8081" },
      port: { type: "string", default: "8000" },
    },
  });
  const server = startDevServer({ dir: values.dir, api: values.api, ws: values.ws, port: Number(values.port) });
  console.log(`web dev server on http://${server.hostname}:${server.port} (api ${values.api}, ws ${values.ws})`);
}
