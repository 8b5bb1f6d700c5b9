import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { MAX_BODY_BYTES } from "../api/http/json-body.ts";
import { readWsConfig } from "../ws/config.ts";
import { renderSite, SITE_TEMPLATE_PATH } from "./render.ts";

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
