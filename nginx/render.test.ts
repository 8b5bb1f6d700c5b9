import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { MAX_BODY_BYTES } from "../api/http/json-body.ts";
import { readWsConfig } from "../ws/config.ts";
import { RENDER_SITE_PATH, renderSite, renderTlsSite, SITE_TEMPLATE_PATH } from "./render.ts";

const template = readFileSync(SITE_TEMPLATE_PATH, "utf8");
const options = { listen: "127.0.0.1:18000", apiPort: 18080, wsPort: 18081, webRoot: "/tmp/web", accessLog: "logs/access.log" };

describe("renderSite", () => {
  test("replaces only the deployment-specific lines", () => {
    const site = renderSite(template, options);
    expect(site).toContain("listen 127.0.0.1:18000 default_server;");
    expect(site).not.toContain("listen [::]");
    expect(site).toContain("server 127.0.0.1:18080;");
    expect(site).toContain("server 127.0.0.1:18081;");
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
    const drifted = template.replace("server 127.0.0.1:8080;", "server localhost:8080;");
    expect(() => renderSite(drifted, options)).toThrow('expected "server 127.0.0.1:8080;" exactly once, found it 0 times');
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

/** `nginx/render-site.sh args…`: its exit status, stdout and stderr. */
function renderSiteSh(...args: string[]) {
  const run = Bun.spawnSync(["bash", RENDER_SITE_PATH, ...args], { stdout: "pipe", stderr: "pipe" });
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
    expect(site).toContain("server 127.0.0.1:18080;");
    expect(site).toContain("server 127.0.0.1:18081;");
    expect(site).toContain("root /tmp/web;");
    expect(site).toContain("root /tmp/acme;");
    expect(site.split("access_log logs/access.log tap_trading_json;")).toHaveLength(3);
    expect(site).not.toMatch(/\/opt\/app|\/var\/log|:8080;|:8081;/);
  });

  test("a name the renderer refuses is a RangeError naming it", () => {
    expect(() => renderTlsSite(options, { domain: "not a name", httpsListen: "18443" })).toThrow(/--domain must be a host name/);
  });
});
