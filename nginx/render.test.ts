import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_BODY_BYTES } from "../api/http/json-body.ts";
import { readWsConfig } from "../ws/config.ts";
import { findNginx, parseUpstreams, RENDER_SITE_PATH, renderNginx, renderSite, renderTlsSite, SITE_TEMPLATE_PATH } from "./render.ts";

// nginx -t and the shell renderer run as processes.
setDefaultTimeout(30_000);

const template = readFileSync(SITE_TEMPLATE_PATH, "utf8");
const options = { listen: "127.0.0.1:18000", apiPort: 18080, wsPort: 18081, webRoot: "/tmp/web", accessLog: "logs/access.log" };

describe("renderSite", () => {
  test("replaces only the deployment-specific lines", () => {
    const site = renderSite(template, options);
    expect(site).toContain("listen 127.0.0.1:18000 default_server;");
    expect(site).not.toContain("listen [::]");
    expect(site).toContain("    server 127.0.0.1:18080 max_fails=1 fail_timeout=10s;\n");
    expect(site).toContain("    server 127.0.0.1:18081 max_fails=1 fail_timeout=10s;\n");
    expect(site).toContain("root /tmp/web;");
    expect(site).toContain("access_log logs/access.log tap_trading_json;");
    expect(site).not.toMatch(/\/opt\/app|\/var\/log|:8080;|:8081;|listen 80 /);
    const changed = site.split("\n").filter((line, i) => line !== template.split("\n")[i]);
    expect(changed).toHaveLength(6);
  });

  test("keeps an IPv6 listener on the same port when asked", () => {
    expect(renderSite(template, { ...options, listen: "8000", ipv6: true })).toContain("listen [::]:8000 default_server;");
  });

  test("fails when the template no longer has a line it replaces", () => {
    const drifted = template.replace("server 127.0.0.1:8080 ", "server localhost:8080 ");
    expect(() => renderSite(drifted, options)).toThrow('expected one "server 127.0.0.1:8080 …;" line, found 0');
  });

  test("refuses paths nginx would read as syntax", () => {
    expect(() => renderSite(template, { ...options, webRoot: "/tmp/my web" })).toThrow(RangeError);
    expect(() => renderSite(template, { ...options, listen: "localhost" })).toThrow(RangeError);
  });
});

describe("the production site", () => {
  test("limits bodies to the API's own limit", () => {
    expect(MAX_BODY_BYTES).toBe(16 * 1024);
    expect(template).toContain("client_max_body_size 16k;");
    expect(template).toContain(`request body is larger than ${MAX_BODY_BYTES} bytes`);
  });

  test("keeps a websocket open longer than ws's own idle timeout (it pings every half of it)", () => {
    const { idleTimeoutS } = readWsConfig({});
    const wsLocation = template.slice(template.indexOf("location = /ws {"));
    const block = wsLocation.slice(0, wsLocation.indexOf("}"));
    for (const directive of ["proxy_read_timeout", "proxy_send_timeout"]) {
      const seconds = Number(new RegExp(`${directive} (\\d+)s;`).exec(block)?.[1]);
      expect(seconds).toBeGreaterThan(idleTimeoutS);
    }
  });
});

/** `nginx/render-site.sh args…` (with `env` added to this environment, its API_UPSTREAMS and WS_UPSTREAMS left out): its exit status, stdout and stderr. */
function renderSiteSh(...args: (string | Record<string, string>)[]) {
  const { API_UPSTREAMS: _api, WS_UPSTREAMS: _ws, ...inherited } = process.env;
  const env = Object.assign({}, inherited, ...args.filter((arg) => typeof arg !== "string"));
  const argv = args.filter((arg) => typeof arg === "string");
  const run = Bun.spawnSync(["bash", RENDER_SITE_PATH, ...argv], { stdout: "pipe", stderr: "pipe", env });
  return { status: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

/** The `server { … }` blocks of a site, in order (a block ends at the first unindented "}"). */
function serverBlocks(site: string): string[] {
  return site.split(/^server \{$/m).slice(1).map((rest) => rest.slice(0, rest.search(/^\}$/m)));
}

/** A block's `location` lines and every directive line (comments and blanks left out), as a set to compare. */
function directives(block: string): string[] {
  return block
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
}

describe("nginx/render-site.sh", () => {
  test("without options prints the HTTP site, nginx/tap-trading.conf, as it is in the repository", () => {
    const run = renderSiteSh();
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(template);
    expect(run.stdout).not.toContain("include site/");
  });

  test("with --domain prints the HTTPS site: TLS on 443 with certbot's files, HSTS, Mozilla's intermediate settings", () => {
    const run = renderSiteSh("--domain", "tap.example.com");
    expect(run.status).toBe(0);
    const [http, https] = serverBlocks(run.stdout);
    expect(https).toContain("listen 443 ssl http2 default_server;");
    expect(https).toContain("listen [::]:443 ssl http2 default_server;");
    expect(https).toContain("server_name tap.example.com;");
    expect(https).toContain("ssl_certificate /etc/letsencrypt/live/tap.example.com/fullchain.pem;");
    expect(https).toContain("ssl_certificate_key /etc/letsencrypt/live/tap.example.com/privkey.pem;");
    expect(https).toContain('add_header Strict-Transport-Security "max-age=63072000" always;');
    expect(https).toContain("ssl_protocols TLSv1.2 TLSv1.3;");
    expect(https).toContain(
      "ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;",
    );
    expect(https).toContain("ssl_session_tickets off;");
    expect(http).toContain("listen 80 default_server;");
    expect(http).toContain("return 301 https://tap.example.com$request_uri;");
    expect(http).toContain("location ^~ /.well-known/acme-challenge/ {");
    expect(run.stdout).not.toMatch(/@[A-Z_]+@|include site\//);
  });

  test("the HTTPS server answers with everything the HTTP site's server has: its limits, headers and locations", () => {
    const tls = renderSiteSh("--domain", "tap.example.com").stdout;
    const [plain] = serverBlocks(template);
    const [, https] = serverBlocks(tls);
    // The HTTP site's own extras: its address, and certbot's challenges (on port 80 in both sites).
    const challenge = plain!.slice(plain!.indexOf("location ^~ /.well-known/acme-challenge/"));
    const shared = directives(plain!.replace(challenge.slice(0, challenge.indexOf("}") + 1), "")).filter((line) => !/^(listen|server_name) /.test(line));
    expect(shared.length).toBeGreaterThan(50);
    const own = new Set(directives(https!));
    expect(shared.filter((line) => !own.has(line))).toEqual([]);
    // Before the servers, both sites say the same: the upstreams, maps, zone and log format.
    const preamble = (site: string) => directives(site.split(/^server \{$/m)[0]!);
    expect(preamble(tls)).toEqual(preamble(template));
  });

  test("takes the certificate, key, challenge folder and ports it is given; the redirect names a port other than 443", () => {
    const run = renderSiteSh("--domain", "localhost", "--cert", "/etc/tap/cert.pem", "--key", "/etc/tap/key.pem", "--acme-root", "/srv/acme", "--http-port", "8080", "--https-port", "8443");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("ssl_certificate /etc/tap/cert.pem;");
    expect(run.stdout).toContain("ssl_certificate_key /etc/tap/key.pem;");
    expect(run.stdout).toContain("root /srv/acme;");
    expect(run.stdout).toContain("listen 8080 default_server;");
    expect(run.stdout).toContain("listen 8443 ssl http2 default_server;");
    expect(run.stdout).toContain("return 301 https://localhost:8443$request_uri;");
  });

  test("refuses, with status 64 and a reason, what nginx or sed would misread", () => {
    for (const args of [
      ["--domain", "tap example.com"],
      ["--domain", "tap.example.com;"],
      ["--domain", "-tap.example.com"],
      ["--domain", "tap.example.com", "--cert", "cert.pem"],
      ["--domain", "tap.example.com", "--key", "/etc/tap/my key.pem"],
      ["--domain", "tap.example.com", "--cert", "/etc/tap/a|b.pem"],
      ["--domain", "tap.example.com", "--https-port", "80"],
      ["--domain", "tap.example.com", "--http-port", "70000"],
      ["--cert", "/etc/tap/cert.pem"],
      ["--domain"],
      ["--bogus", "x"],
    ]) {
      const run = renderSiteSh(...args);
      expect({ args, status: run.status, said: run.stderr.startsWith("render-site: ") }).toEqual({ args, status: 64, said: true });
      expect(run.stdout).toBe("");
    }
  });
});

describe("renderTlsSite", () => {
  test("puts both servers on the given addresses and the local ports and folders in, as renderSite does", () => {
    const site = renderTlsSite(options, { domain: "localhost", certificate: "/tmp/tls/cert.pem", key: "/tmp/tls/key.pem", httpsListen: "127.0.0.1:18443", acmeRoot: "/tmp/acme" });
    expect(site).toContain("listen 127.0.0.1:18000 default_server;");
    expect(site).toContain("listen 127.0.0.1:18443 ssl http2 default_server;");
    expect(site).not.toContain("listen [::]");
    expect(site).toContain("return 301 https://localhost:18443$request_uri;");
    expect(site).toContain("server 127.0.0.1:18080 max_fails=1 fail_timeout=10s;");
    expect(site).toContain("server 127.0.0.1:18081 max_fails=1 fail_timeout=10s;");
    expect(site).toContain("root /tmp/web;");
    expect(site).toContain("root /tmp/acme;");
    expect(site.split("access_log logs/access.log tap_trading_json;")).toHaveLength(3);
    expect(site).not.toMatch(/\/opt\/app|\/var\/log|:8080;|:8081;/);
  });

  test("a name the renderer refuses is a RangeError naming it", () => {
    expect(() => renderTlsSite(options, { domain: "not a name", httpsListen: "18443" })).toThrow(/--domain must be a host name/);
  });
});

/** The `upstream NAME { … }` block of a site. */
function upstreamBlock(site: string, name: string): string {
  const start = site.indexOf(`upstream ${name} {`);
  expect(start).toBeGreaterThanOrEqual(0);
  return site.slice(start, site.indexOf("\n}", start) + 2);
}

/** The nodes a site's upstream names, in order. */
function serversOf(site: string, name: string): string[] {
  return [...upstreamBlock(site, name).matchAll(/^ {4}server (\S+) max_fails=1 fail_timeout=10s;$/gm)].map((match) => match[1]!);
}

describe("several api and ws nodes", () => {
  const nodes = { apiUpstreams: ["127.0.0.1:18080", "127.0.0.1:18090", "10.0.0.3:8080"], wsUpstreams: ["127.0.0.1:18081", "[::1]:18091"] };

  test("renderSite writes one server line per node, in the order given, each with the template's parameters", () => {
    const { apiPort: _a, wsPort: _w, ...folders } = options;
    const site = renderSite(template, { ...folders, ...nodes });
    expect(serversOf(site, "tap_trading_api")).toEqual(nodes.apiUpstreams);
    expect(serversOf(site, "tap_trading_ws")).toEqual(nodes.wsUpstreams);
    // The balancing, the zone and the keepalive stay, once each.
    expect(upstreamBlock(site, "tap_trading_api")).toContain("hash $tap_trading_api_key consistent;\n");
    expect(upstreamBlock(site, "tap_trading_ws")).toContain("least_conn;\n");
    expect(site.match(/keepalive \d+;/g)).toHaveLength(2);
    // A list wins over the port.
    expect(renderSite(template, { ...options, ...nodes })).toBe(site);
  });

  test("renderTlsSite writes the same upstreams as renderSite", () => {
    const tls = renderTlsSite({ ...options, ...nodes }, { domain: "localhost", httpsListen: "127.0.0.1:18443" });
    const plain = renderSite(template, { ...options, ...nodes });
    for (const name of ["tap_trading_api", "tap_trading_ws"]) expect(upstreamBlock(tls, name)).toBe(upstreamBlock(plain, name));
  });

  test("refuses a list nginx would misread: empty, not host:port, a port out of range, a node twice", () => {
    for (const apiUpstreams of [[], ["127.0.0.1"], ["127.0.0.1:0"], ["127.0.0.1:65536"], ["a b:80"], ["x;y:80"], ["::1:8080"], ["127.0.0.1:8080", "127.0.0.1:8080"]]) {
      expect(() => renderSite(template, { ...options, apiUpstreams })).toThrow(RangeError);
    }
    expect(() => renderSite(template, { ...options, wsUpstreams: ["ws-1.internal:8081", "ws-1.internal:8081"] })).toThrow("wsUpstreams names a node twice");
    const { apiPort: _, ...noApi } = options;
    expect(() => renderSite(template, noApi)).toThrow("apiUpstreams must name at least one node");
  });

  test("parseUpstreams reads a list written with spaces or commas", () => {
    expect(parseUpstreams(" 127.0.0.1:8080, 127.0.0.1:8090\t10.0.0.2:8080,")).toEqual(["127.0.0.1:8080", "127.0.0.1:8090", "10.0.0.2:8080"]);
    expect(parseUpstreams("")).toEqual([]);
  });

  test("render-site.sh takes the lists as options or from API_UPSTREAMS / WS_UPSTREAMS, and writes what renderSite writes", () => {
    const byOption = renderSiteSh("--api-upstreams", nodes.apiUpstreams.join(" "), "--ws-upstreams", nodes.wsUpstreams.join(","));
    expect(byOption.status).toBe(0);
    expect(serversOf(byOption.stdout, "tap_trading_api")).toEqual(nodes.apiUpstreams);
    expect(serversOf(byOption.stdout, "tap_trading_ws")).toEqual(nodes.wsUpstreams);
    // Only the server lines differ from the one-node site.
    const [lines, before] = [byOption.stdout.split("\n"), template.split("\n")];
    const server = (node: string) => `    server ${node} max_fails=1 fail_timeout=10s;`;
    expect(lines.filter((line) => !before.includes(line))).toEqual([...nodes.apiUpstreams, ...nodes.wsUpstreams].map(server));
    expect(before.filter((line) => !lines.includes(line))).toEqual(["127.0.0.1:8080", "127.0.0.1:8081"].map(server));
    const { apiPort: _a, wsPort: _w, ...folders } = options;
    const rendered = renderSite(template, { ...folders, ...nodes });
    for (const name of ["tap_trading_api", "tap_trading_ws"]) expect(upstreamBlock(byOption.stdout, name)).toBe(upstreamBlock(rendered, name));

    const byEnv = renderSiteSh({ API_UPSTREAMS: nodes.apiUpstreams.join(" "), WS_UPSTREAMS: nodes.wsUpstreams.join(" ") });
    expect(byEnv).toEqual(byOption);
    // An option wins over the environment; the HTTPS site takes them too.
    const both = renderSiteSh({ API_UPSTREAMS: "127.0.0.1:1 127.0.0.1:2" }, "--api-upstreams", "127.0.0.1:3", "--domain", "tap.example.com");
    expect(both.status).toBe(0);
    expect(serversOf(both.stdout, "tap_trading_api")).toEqual(["127.0.0.1:3"]);
  });

  test("render-site.sh refuses, with status 64 and a reason, a list nginx would misread", () => {
    for (const args of [["--api-upstreams", ""], ["--api-upstreams", "127.0.0.1"], ["--ws-upstreams", "127.0.0.1:70000"], ["--api-upstreams", "a;b:80"], ["--ws-upstreams", "h:1 h:1"], [{ API_UPSTREAMS: "x|y:80" }]]) {
      const run = renderSiteSh(...args);
      expect({ args, status: run.status, said: run.stderr.startsWith("render-site: ") }).toEqual({ args, status: 64, said: true });
      expect(run.stdout).toBe("");
    }
  });

  test("render-site.sh stops (64) when a template no longer has its one server line per upstream", () => {
    const copy = mkdtempSync(join(tmpdir(), "tap-render-drift-"));
    try {
      Bun.spawnSync(["cp", "-r", RENDER_SITE_PATH, join(import.meta.dir, "site"), copy]);
      const context = join(copy, "site", "http-context.conf");
      writeFileSync(context, readFileSync(context, "utf8").replace("server 127.0.0.1:8081 ", "server 127.0.0.1:9999 "));
      const run = Bun.spawnSync(["bash", join(copy, "render-site.sh")], { stdout: "pipe", stderr: "pipe" });
      expect({ status: run.exitCode, stdout: run.stdout.toString() }).toEqual({ status: 64, stdout: "" });
      expect(run.stderr.toString()).toContain("expected one server line in each of the two upstreams, found 1");
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test("a request already sent is not sent to another node when it is a POST (no non_idempotent), in both sites", () => {
    for (const site of [template, renderSiteSh("--domain", "tap.example.com").stdout]) {
      const api = site.slice(site.indexOf("location /api/ {"));
      const ws = site.slice(site.indexOf("location = /ws {"));
      expect(api.slice(0, api.indexOf("}"))).toContain("proxy_next_upstream error timeout;");
      expect(ws.slice(0, ws.indexOf("}"))).toContain("proxy_next_upstream error timeout;");
      expect(site).not.toContain("non_idempotent;");
    }
  });

  test.skipIf(!findNginx())("nginx -t accepts the HTTP and the HTTPS site with two api and two ws nodes", () => {
    const prefix = mkdtempSync(join(tmpdir(), "tap-render-nodes-"));
    try {
      const tlsDir = join(prefix, "tls");
      Bun.spawnSync(["mkdir", "-p", tlsDir]);
      const made = Bun.spawnSync(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", join(tlsDir, "key.pem"), "-out", join(tlsDir, "cert.pem")],
        { stdout: "pipe", stderr: "pipe" },
      );
      const two = { apiUpstreams: ["127.0.0.1:18080", "127.0.0.1:18090"], wsUpstreams: ["127.0.0.1:18081", "127.0.0.1:18091"] };
      const sites = [renderNginx({ prefix: join(prefix, "http"), port: 18000, host: "127.0.0.1", ...two })];
      if (made.exitCode === 0) {
        const tls = { domain: "localhost", certificate: join(tlsDir, "cert.pem"), key: join(tlsDir, "key.pem"), httpsPort: 18443 };
        sites.push(renderNginx({ prefix: join(prefix, "https"), port: 18000, host: "127.0.0.1", ...two, tls }));
      }
      for (const rendered of sites) {
        const site = readFileSync(join(rendered.prefix, "conf", "tap-trading.conf"), "utf8");
        expect(serversOf(site, "tap_trading_api")).toEqual(two.apiUpstreams);
        const check = Bun.spawnSync(rendered.testCommand, { stdout: "pipe", stderr: "pipe" });
        expect({ status: check.exitCode, stderr: check.stderr.toString() }).toEqual({ status: 0, stderr: "" });
      }
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});
