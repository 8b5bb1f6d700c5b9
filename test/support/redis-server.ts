import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canConnect, freePort } from "./ports.ts";
import { waitFor } from "./wait.ts";

const ROOT = join(import.meta.dir, "..", "..");
/** The production ACL's template and its renderer (deploy/install.sh uses the same two). */
const ACL_TEMPLATE = join(ROOT, "deploy", "redis", "users.acl");
const ACL_RENDER = join(ROOT, "deploy", "redis", "render-acl.sh");

/** A private redis-server on a free port, so tests never touch data they did not create. */
export interface TestRedis {
  /** The server's address, with no credentials (enough when it runs without an ACL). */
  url: string;
  port: number;
  /** Kills the server and starts it again on the same port (empty: it keeps nothing). */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** One user of the production ACL (deploy/redis/users.acl), with a fresh password. */
export interface TestRedisUser {
  username: string;
  password: string;
  /** The password in a file of mode 0600, as `REDIS_PASSWORD_FILE` wants it. */
  passwordFile: string;
  /** The server's URL with this user's credentials in it. */
  url: string;
  /** `REDIS_URL`, `REDIS_USERNAME` and `REDIS_PASSWORD_FILE` for a service run as this user. */
  env: { REDIS_URL: string; REDIS_USERNAME: string; REDIS_PASSWORD_FILE: string };
}

export type AclUserName = "admin" | "api" | "ws" | "price";

/** A server that loaded the production ACL: its default user is off. */
export interface TestRedisWithAcl extends TestRedis {
  users: Record<AclUserName, TestRedisUser>;
  /** The rendered ACL file the server loaded. */
  aclFile: string;
}

export interface StartRedisOptions {
  /** Load the ACL rendered from deploy/redis/users.acl, one fresh password per user. */
  acl?: boolean;
}

/**
 * Starts redis-server on a free port with a temp folder of its own.
 *
 * ```ts
 * await using redis = await startRedis();
 * await using locked = await startRedis({ acl: true });
 * spawnService("ws", { ...locked.users.ws.env, PORT: "0" });
 * ```
 */
export async function startRedis(): Promise<TestRedis>;
export async function startRedis(options: StartRedisOptions & { acl: true }): Promise<TestRedisWithAcl>;
export async function startRedis(options?: StartRedisOptions): Promise<TestRedis>;
export async function startRedis({ acl = false }: StartRedisOptions = {}): Promise<TestRedis | TestRedisWithAcl> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tap-redis-"));
  const url = `redis://127.0.0.1:${port}`;
  const users = acl ? aclUsers(dir, url) : undefined;
  const aclFile = join(dir, "users.acl");
  if (users) renderAcl(dir, aclFile);
  let proc: ReturnType<typeof Bun.spawn> | undefined;

  const launch = async () => {
    proc = Bun.spawn(
      ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, ...(users ? ["--aclfile", aclFile] : [])],
      { stdout: "ignore", stderr: "inherit" },
    );
    await waitFor(`redis-server on ${port}`, () => canConnect(port));
  };
  const kill = async () => {
    if (!proc) return;
    proc.kill("SIGKILL");
    await proc.exited;
    proc = undefined;
  };
  await launch();

  const stop = async () => {
    await kill();
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    url,
    port,
    async restart(downMs = 500) {
      await kill();
      await Bun.sleep(downMs);
      await launch();
    },
    stop,
    [Symbol.asyncDispose]: stop,
    ...(users ? { users, aclFile } : {}),
  };
}

/** Each user of the template (the line holding `@<name>-password-sha256@`), with a fresh password file in `dir`. */
function aclUsers(dir: string, url: string): Record<AclUserName, TestRedisUser> {
  const template = readFileSync(ACL_TEMPLATE, "utf8");
  const users: Partial<Record<AclUserName, TestRedisUser>> = {};
  for (const name of ["admin", "api", "ws", "price"] as const) {
    const username = new RegExp(`^user (\\S+) .*@${name}-password-sha256@`, "m").exec(template)?.[1];
    if (!username) throw new Error(`${ACL_TEMPLATE} has no user for ${name}`);
    const password = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url");
    const passwordFile = join(dir, `redis-${name}.password`);
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    chmodSync(passwordFile, 0o600);
    const withCredentials = url.replace("//", `//${encodeURIComponent(username)}:${encodeURIComponent(password)}@`);
    users[name] = { username, password, passwordFile, url: withCredentials, env: { REDIS_URL: url, REDIS_USERNAME: username, REDIS_PASSWORD_FILE: passwordFile } };
  }
  return users as Record<AclUserName, TestRedisUser>;
}

function renderAcl(dir: string, aclFile: string): void {
  const render = Bun.spawnSync(["bash", ACL_RENDER, dir], { stdout: "pipe", stderr: "pipe" });
  if (render.exitCode !== 0) throw new Error(`${ACL_RENDER} failed: ${render.stderr.toString()}`);
  writeFileSync(aclFile, render.stdout);
}
