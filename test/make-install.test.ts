/**
 * `make install` hands the node lists to deploy/install.sh (docs/nodes.md),
 * read from `make -n`: what it would run, without running it.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";

setDefaultTimeout(30_000);

const ROOT = join(import.meta.dir, "..");

/** The deploy/install.sh line `make install …` would run. */
function installLine(...variables: string[]): string {
  const make = Bun.spawnSync(["make", "-n", "install", ...variables], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  expect(make.exitCode).toBe(0);
  const line = make.stdout.toString().split("\n").find((text) => text.includes("deploy/install.sh"));
  return (line ?? "").replace(/\s+/g, " ").trim();
}

test("make install passes DOMAIN, the api and ws node lists (quoted, spaces kept) and LOCAL_NODES to deploy/install.sh", () => {
  expect(installLine()).toBe("bash deploy/install.sh");
  expect(installLine("API_UPSTREAMS=10.0.0.11:8080 10.0.0.12:8080", "WS_UPSTREAMS=10.0.0.11:8081 10.0.0.12:8081")).toBe(
    'bash deploy/install.sh --api-upstreams "10.0.0.11:8080 10.0.0.12:8080" --ws-upstreams "10.0.0.11:8081 10.0.0.12:8081"',
  );
  expect(installLine("DOMAIN=example.com", "LOCAL_NODES=1")).toBe("bash deploy/install.sh --domain example.com --local-nodes");
});
