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

export interface SiteOptions {
  /** Where nginx listens: `127.0.0.1:8000`, `8000` (every IPv4 address) or `80`. */
  listen: string;
  /** Also listen on the same port over IPv6 (`[::]:port`). */
  ipv6?: boolean;
  apiPort: number;
  wsPort: number;
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
  return replaceLines(template, "nginx/tap-trading.conf", [
    ["listen 80 default_server;", `listen ${listen} default_server;`, 1],
    ["listen [::]:80 default_server;", ipv6 ? `listen [::]:${port} default_server;` : "# (no IPv6 listener in this copy)", 1],
    ...localLines(options),
  ]);
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
  const render = Bun.spawnSync(["bash", RENDER_SITE_PATH, ...args], { stdout: "pipe", stderr: "pipe" });
  if (render.exitCode !== 0) throw new RangeError(`nginx/render-site.sh failed: ${render.stderr.toString().trim()}`);
  return replaceLines(render.stdout.toString(), "nginx/render-site.sh --domain", [
    [`listen ${httpPort} default_server;`, `listen ${listen} default_server;`, 1],
    [`listen [::]:${httpPort} default_server;`, ipv6 ? `listen [::]:${httpPort} default_server;` : "# (no IPv6 listener in this copy)", 1],
    [`listen ${httpsPort} ssl http2 default_server;`, `listen ${tls.httpsListen} ssl http2 default_server;`, 1],
    [`listen [::]:${httpsPort} ssl http2 default_server;`, ipv6 ? `listen [::]:${httpsPort} ssl http2 default_server;` : "# (no IPv6 listener in this copy)", 1],
    // The access log: the redirecting server's and the site's.
    ...localLines(options).map(([from, to]): [string, string, number] => [from, to, from.startsWith("access_log") ? 2 : 1]),
  ]);
}

/** The port at the end of a listen address. */
function portOf(listen: string): string {
  const port = listen.split(":").at(-1) ?? "";
  if (!/^\d{1,5}$/.test(port)) throw new RangeError(`listen must end with a port: ${JSON.stringify(listen)}`);
  return port;
}

/** The lines of either site that name this machine's ports and folders. */
function localLines({ apiPort, wsPort, webRoot, accessLog }: SiteOptions): [string, string, number][] {
  for (const [name, value] of [
    ["webRoot", webRoot],
    ["accessLog", accessLog],
  ] as const) {
    if (/[\s;{}"'$]/.test(value)) throw new RangeError(`${name} must be a plain path for nginx: ${JSON.stringify(value)}`);
  }
  return [
    ["server 127.0.0.1:8080;", `server 127.0.0.1:${apiPort};`, 1],
    ["server 127.0.0.1:8081;", `server 127.0.0.1:${wsPort};`, 1],
    ["root /opt/app/web;", `root ${webRoot};`, 1],
    ["access_log /var/log/nginx/tap-trading.access.log", `access_log ${accessLog}`, 1],
  ];
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

export interface RenderNginxOptions {
  /** A folder of its own: it gets conf/, logs/, tmp/ and the pid file. Created if missing. */
  prefix: string;
  /** The port nginx listens on. */
  port: number;
  /** Listen on this address only; by default every address (IPv4 and IPv6), as production does. */
  host?: string;
  apiPort: number;
  wsPort: number;
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
  const { port, host, apiPort, wsPort, nginx = findNginx() ?? "nginx" } = options;
  for (const dir of ["conf", "logs", "tmp"]) mkdirSync(join(prefix, dir), { recursive: true });

  let webRoot = options.webRoot ? resolve(options.webRoot) : undefined;
  if (!webRoot || !existsSync(join(webRoot, "index.html"))) {
    webRoot = join(prefix, "web");
    mkdirSync(webRoot, { recursive: true });
    copyFileSync(PLACEHOLDER_PAGE_PATH, join(webRoot, "index.html"));
  }
  const accessLog = join(prefix, "logs", "access.log");
  const siteOptions = { listen: host ? `${host}:${port}` : String(port), ipv6: host === undefined, apiPort, wsPort, webRoot, accessLog };
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
  const [prefix, port, apiPort = "8080", wsPort = "8081", webRoot] = process.argv.slice(2);
  if (!prefix || !port) {
    console.error("usage: bun nginx/render.ts <prefix> <port> [apiPort] [wsPort] [webRoot]");
    process.exit(64);
  }
  const rendered = renderNginx({ prefix, port: Number(port), apiPort: Number(apiPort), wsPort: Number(wsPort), ...(webRoot ? { webRoot } : {}) });
  console.log(rendered.command.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg}'`)).join(" "));
}
