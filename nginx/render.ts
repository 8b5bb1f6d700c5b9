import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const HERE = import.meta.dir;

/** The production HTTP site, as deploy/install.sh installs it (`nginx/render-site.sh` without options prints it). */
export const SITE_TEMPLATE_PATH = join(HERE, "tap-trading.conf");
/** Prints the production site from nginx/site/: HTTP, or HTTPS with `--domain` (see its opening comment). */
export const RENDER_SITE_PATH = join(HERE, "render-site.sh");
/** The nginx.conf that runs the site from a prefix folder, without root. */
export const PREFIX_CONF_PATH = join(HERE, "nginx.conf");
/** The page served while no front end has been built. */
export const PLACEHOLDER_PAGE_PATH = join(HERE, "placeholder", "index.html");

/**
 * The nginx program: on PATH, or in the sbin folders a non-root PATH often
 * lacks on Debian. Undefined when nginx is not installed.
 */
export function findNginx(): string | undefined {
  return Bun.which("nginx", { PATH: `${process.env.PATH ?? ""}:/usr/local/sbin:/usr/sbin:/sbin` }) ?? undefined;
}

/**
 * The nodes nginx sends `/api/` and `/ws` to: one each on 127.0.0.1 (`apiPort`,
 * `wsPort`, as `make run` has them), or lists of `host:port` addresses, one
 * `server` line each (`apiUpstreams`, `wsUpstreams`; a list wins over the port).
 * How nginx spreads players over them: docs/nodes.md.
 *
 * ```ts
 * const one: SiteUpstreams = { apiPort: 8080, wsPort: 8081 };
 * const two: SiteUpstreams = { apiUpstreams: ["127.0.0.1:8080", "127.0.0.1:8090"], wsUpstreams: ["127.0.0.1:8081", "127.0.0.1:8091"] };
 * ```
 */
export interface SiteUpstreams {
  apiPort?: number;
  wsPort?: number;
  apiUpstreams?: readonly string[];
  wsUpstreams?: readonly string[];
}

export interface SiteOptions extends SiteUpstreams {
  /** Where nginx listens: `127.0.0.1:8000`, `8000` (every IPv4 address) or `80`. */
  listen: string;
  /** Also listen on the same port over IPv6 (`[::]:port`). */
  ipv6?: boolean;
  /** The folder of static files served at `/` (absolute). */
  webRoot: string;
  /** The access log's path (relative paths resolve against nginx's prefix). */
  accessLog: string;
}

/**
 * The production site with only its deployment-specific lines replaced. Every
 * line it replaces must appear exactly once in the template, so a template
 * edited out of step with the renderer fails here rather than serving a
 * half-rendered site.
 *
 * ```ts
 * const site = renderSite(readFileSync(SITE_TEMPLATE_PATH, "utf8"), {
 *   listen: "127.0.0.1:8000", apiPort: 8080, wsPort: 8081, webRoot: "/tmp/web", accessLog: "logs/access.log",
 * });
 * ```
 */
export function renderSite(template: string, options: SiteOptions): string {
  const { listen, ipv6 = false } = options;
  const port = portOf(listen);
  const site = replaceLines(template, "nginx/tap-trading.conf", [
    ["listen 80 default_server;", `listen ${listen} default_server;`, 1],
    ["listen [::]:80 default_server;", ipv6 ? `listen [::]:${port} default_server;` : "# (no IPv6 listener in this copy)", 1],
    ...localLines(options),
  ]);
  return expandServers(site, "nginx/tap-trading.conf", options);
}

/**
 * Where the HTTPS site is served and with which certificate, for `renderTlsSite`.
 *
 * ```ts
 * const tls: TlsOptions = { domain: "localhost", certificate: "/tmp/x/cert.pem", key: "/tmp/x/key.pem", httpsListen: "127.0.0.1:8443" };
 * ```
 */
export interface TlsOptions {
  /** The site's name: `server_name`, and the host HTTP redirects to. */
  domain: string;
  /** The certificate chain and its key (PEM); certbot's files for `domain` when left out. */
  certificate?: string;
  key?: string;
  /** Where HTTPS listens: `127.0.0.1:8443`, `8443` or `443`. */
  httpsListen: string;
  /** The folder certbot's webroot challenges are served from. */
  acmeRoot?: string;
}

/**
 * The production HTTPS site (`nginx/render-site.sh --domain …`) with the same
 * deployment-specific lines replaced as `renderSite` replaces: plain HTTP on
 * `listen` (redirecting to HTTPS), HTTPS on `tls.httpsListen`. Every line it
 * replaces must appear as often as the renderer writes it.
 *
 * ```ts
 * const site = renderTlsSite({ listen: "127.0.0.1:8000", apiPort: 8080, wsPort: 8081, webRoot: "/tmp/web", accessLog: "logs/access.log" },
 *   { domain: "localhost", certificate: "/tmp/x/cert.pem", key: "/tmp/x/key.pem", httpsListen: "127.0.0.1:8443" });
 * ```
 */
export function renderTlsSite(options: SiteOptions, tls: TlsOptions): string {
  const { listen, ipv6 = false } = options;
  const httpPort = portOf(listen);
  const httpsPort = portOf(tls.httpsListen);
  const args = ["--domain", tls.domain, "--http-port", httpPort, "--https-port", httpsPort];
  if (tls.certificate) args.push("--cert", tls.certificate);
  if (tls.key) args.push("--key", tls.key);
  if (tls.acmeRoot) args.push("--acme-root", tls.acmeRoot);
  // The script's own defaults for the nodes (not this process's API_UPSTREAMS): they are replaced below, as in renderSite.
  const env = { ...process.env, API_UPSTREAMS: "", WS_UPSTREAMS: "" };
  const render = Bun.spawnSync(["bash", RENDER_SITE_PATH, ...args], { stdout: "pipe", stderr: "pipe", env });
  if (render.exitCode !== 0) throw new RangeError(`nginx/render-site.sh failed: ${render.stderr.toString().trim()}`);
  const site = replaceLines(render.stdout.toString(), "nginx/render-site.sh --domain", [
    [`listen ${httpPort} default_server;`, `listen ${listen} default_server;`, 1],
    [`listen [::]:${httpPort} default_server;`, ipv6 ? `listen [::]:${httpPort} default_server;` : "# (no IPv6 listener in this copy)", 1],
    [`listen ${httpsPort} ssl http2 default_server;`, `listen ${tls.httpsListen} ssl http2 default_server;`, 1],
    [`listen [::]:${httpsPort} ssl http2 default_server;`, ipv6 ? `listen [::]:${httpsPort} ssl http2 default_server;` : "# (no IPv6 listener in this copy)", 1],
    // The access log: the redirecting server's and the site's.
    ...localLines(options).map(([from, to]): [string, string, number] => [from, to, from.startsWith("access_log") ? 2 : 1]),
  ]);
  return expandServers(site, "nginx/render-site.sh --domain", options);
}

/** The port at the end of a listen address. */
function portOf(listen: string): string {
  const port = listen.split(":").at(-1) ?? "";
  if (!/^\d{1,5}$/.test(port)) throw new RangeError(`listen must end with a port: ${JSON.stringify(listen)}`);
  return port;
}

/** The lines of either site that name this machine's folders. */
function localLines({ webRoot, accessLog }: SiteOptions): [string, string, number][] {
  for (const [name, value] of [
    ["webRoot", webRoot],
    ["accessLog", accessLog],
  ] as const) {
    if (/[\s;{}"'$]/.test(value)) throw new RangeError(`${name} must be a plain path for nginx: ${JSON.stringify(value)}`);
  }
  return [
    ["root /opt/app/web;", `root ${webRoot};`, 1],
    ["access_log /var/log/nginx/tap-trading.access.log", `access_log ${accessLog}`, 1],
  ];
}

/** host:port, the host a name, an IPv4 address or [IPv6]: nginx/render-site.sh's rule. */
const UPSTREAM_ADDRESS = /^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/;

/**
 * A list of nodes as people write it (`API_UPSTREAMS`, `--api-upstreams`):
 * `host:port` addresses separated by spaces or commas. Checked when rendered.
 *
 * ```ts
 * parseUpstreams("127.0.0.1:8080, 127.0.0.1:8090"); // ["127.0.0.1:8080", "127.0.0.1:8090"]
 * ```
 */
export function parseUpstreams(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** The nodes of one upstream: the list, else 127.0.0.1:port; at least one, each host:port, none twice. */
function upstreamNodes(name: string, list: readonly string[] | undefined, port: number | undefined): readonly string[] {
  const nodes = list ?? (port === undefined ? [] : [`127.0.0.1:${port}`]);
  if (nodes.length === 0) throw new RangeError(`${name} must name at least one node (host:port)`);
  for (const node of nodes) {
    const port = Number(UPSTREAM_ADDRESS.exec(node)?.[3] ?? 0);
    if (port < 1 || port > 65535) throw new RangeError(`${name} must be host:port addresses: ${JSON.stringify(node)}`);
  }
  if (new Set(nodes).size !== nodes.length) throw new RangeError(`${name} names a node twice: ${nodes.join(" ")}`);
  return nodes;
}

/**
 * Each upstream's one `server` line of the site (127.0.0.1:8080 for the API,
 * :8081 for ws, with its parameters) written once per node, parameters kept.
 */
function expandServers(site: string, source: string, { apiPort, wsPort, apiUpstreams, wsUpstreams }: SiteUpstreams): string {
  const upstreams = [
    ["8080", upstreamNodes("apiUpstreams", apiUpstreams, apiPort)],
    ["8081", upstreamNodes("wsUpstreams", wsUpstreams, wsPort)],
  ] as const;
  for (const [port, nodes] of upstreams) {
    const line = new RegExp(`^([ \\t]*)server 127\\.0\\.0\\.1:${port}( [^;\\n]*)?;$`, "gm");
    const count = site.match(line)?.length ?? 0;
    if (count !== 1) throw new Error(`${source}: expected one "server 127.0.0.1:${port} …;" line, found ${count}`);
    site = site.replace(line, (_line, indent: string, parameters = "") => nodes.map((node) => `${indent}server ${node}${parameters};`).join("\n"));
  }
  return site;
}

/** Each `from` replaced by its `to`, after checking it appears exactly `times` times in `site`. */
function replaceLines(site: string, source: string, replacements: [from: string, to: string, times: number][]): string {
  for (const [from, to, times] of replacements) {
    const count = site.split(from).length - 1;
    if (count !== times) throw new Error(`${source}: expected "${from}" ${times === 1 ? "exactly once" : `${times} times`}, found it ${count} times`);
    site = site.replaceAll(from, to);
  }
  return site;
}

export interface RenderNginxOptions extends SiteUpstreams {
  /** A folder of its own: it gets conf/, logs/, tmp/ and the pid file. Created if missing. */
  prefix: string;
  /** The port nginx listens on. */
  port: number;
  /** Listen on this address only; by default every address (IPv4 and IPv6), as production does. */
  host?: string;
  /** Static files for `/`; without one (or when it does not exist) a placeholder page is served. */
  webRoot?: string;
  /** The nginx program (default: `findNginx()`, else `nginx`). */
  nginx?: string;
  /** Serve the HTTPS site instead: `port` is then plain HTTP (redirecting), `tls.httpsPort` HTTPS. */
  tls?: { domain: string; certificate: string; key: string; httpsPort: number; acmeRoot?: string };
}

export interface RenderedNginx {
  prefix: string;
  port: number;
  /** http://host:port for clients (https://host:httpsPort for the HTTPS site). */
  url: string;
  /** The folder served at `/`. */
  webRoot: string;
  /** One JSON line per request (the production log format). */
  accessLog: string;
  /** Runs nginx in the foreground with this configuration; it logs errors to stderr. */
  command: string[];
  /** Checks the configuration (`nginx -t`) without starting it. */
  testCommand: string[];
}

/**
 * Writes a runnable nginx configuration into `prefix`: the production site
 * rendered for the given ports and folders, inside nginx/nginx.conf. Needs no
 * root. When root starts it, the workers stay root too (as an unprivileged
 * user's workers stay that user), so a 0700 temp folder still works.
 *
 * ```ts
 * const nginx = renderNginx({ prefix: "/tmp/x", port: 8000, host: "127.0.0.1", apiPort: 8080, wsPort: 8081 });
 * const proc = Bun.spawn(nginx.command, { stderr: "inherit" });
 * ```
 */
export function renderNginx(options: RenderNginxOptions): RenderedNginx {
  const prefix = resolve(options.prefix);
  const { port, host, nginx = findNginx() ?? "nginx" } = options;
  for (const dir of ["conf", "logs", "tmp"]) mkdirSync(join(prefix, dir), { recursive: true });

  let webRoot = options.webRoot ? resolve(options.webRoot) : undefined;
  if (!webRoot || !existsSync(join(webRoot, "index.html"))) {
    webRoot = join(prefix, "web");
    mkdirSync(webRoot, { recursive: true });
    copyFileSync(PLACEHOLDER_PAGE_PATH, join(webRoot, "index.html"));
  }
  const accessLog = join(prefix, "logs", "access.log");
  const { apiPort, wsPort, apiUpstreams, wsUpstreams } = options;
  const upstreams: SiteUpstreams = {
    ...(apiPort === undefined ? {} : { apiPort }),
    ...(wsPort === undefined ? {} : { wsPort }),
    ...(apiUpstreams ? { apiUpstreams } : {}),
    ...(wsUpstreams ? { wsUpstreams } : {}),
  };
  const siteOptions = { listen: host ? `${host}:${port}` : String(port), ipv6: host === undefined, ...upstreams, webRoot, accessLog };
  const { tls } = options;
  const site = tls
    ? renderTlsSite(siteOptions, {
        domain: tls.domain,
        certificate: resolve(tls.certificate),
        key: resolve(tls.key),
        httpsListen: host ? `${host}:${tls.httpsPort}` : String(tls.httpsPort),
        ...(tls.acmeRoot ? { acmeRoot: resolve(tls.acmeRoot) } : {}),
      })
    : renderSite(readFileSync(SITE_TEMPLATE_PATH, "utf8"), siteOptions);
  writeFileSync(join(prefix, "conf", "tap-trading.conf"), site);
  copyFileSync(PREFIX_CONF_PATH, join(prefix, "conf", "nginx.conf"));

  const args = ["-p", `${prefix}/`, "-c", "conf/nginx.conf", "-e", "stderr"];
  if (process.getuid?.() === 0) args.push("-g", "user root root;");
  const urlHost = !host || host === "0.0.0.0" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return {
    prefix,
    port,
    url: tls ? `https://${urlHost}${tls.httpsPort === 443 ? "" : `:${tls.httpsPort}`}` : `http://${urlHost}${port === 80 ? "" : `:${port}`}`,
    webRoot,
    accessLog,
    command: [nginx, ...args],
    testCommand: [nginx, "-t", "-q", ...args],
  };
}

if (import.meta.main) {
  // bun nginx/render.ts <prefix> <port> [apiPort] [wsPort] [webRoot]: writes the files, prints the command.
  // API_UPSTREAMS / WS_UPSTREAMS ("host:port host:port") name several nodes instead of the one port.
  const [prefix, port, apiPort = "8080", wsPort = "8081", webRoot] = process.argv.slice(2);
  if (!prefix || !port) {
    console.error("usage: [API_UPSTREAMS=… WS_UPSTREAMS=…] bun nginx/render.ts <prefix> <port> [apiPort] [wsPort] [webRoot]");
    process.exit(64);
  }
  const { API_UPSTREAMS: apiList, WS_UPSTREAMS: wsList } = process.env;
  const rendered = renderNginx({
    prefix,
    port: Number(port),
    apiPort: Number(apiPort),
    wsPort: Number(wsPort),
    ...(apiList ? { apiUpstreams: parseUpstreams(apiList) } : {}),
    ...(wsList ? { wsUpstreams: parseUpstreams(wsList) } : {}),
    ...(webRoot ? { webRoot } : {}),
  });
  console.log(rendered.command.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg}'`)).join(" "));
}
