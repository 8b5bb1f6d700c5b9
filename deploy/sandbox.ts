/**
 * A throwaway Debian with systemd as PID 1, for running deploy/install.sh the
 * way a real host would: systemd-nspawn boots this machine's own root through
 * an overlay whose writable half lives on a tmpfs, so nothing the sandbox does
 * reaches the host's files, and powering it off and booting it again on the
 * same overlay is a reboot that keeps its disk.
 *
 * Works where PID 1 is not systemd and cgroups are hybrid (v1 + a v2
 * `unified` mount). systemd never boots on the host's own root: its tmpfiles
 * service would empty the host's /tmp.
 *
 *   sudo bun deploy/sandbox.ts            # boot, install, print how to enter; Ctrl-C removes it
 *   sudo bun deploy/sandbox.ts --cleanup  # remove what a killed run left behind
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const CGROUP_V1 = "/sys/fs/cgroup/systemd";
const CGROUP_V2 = "/sys/fs/cgroup/unified";
const NAME_PREFIX = "tap-sandbox-";
/** Where the checkout is visible inside the sandbox (read-only). */
export const SANDBOX_SOURCE = "/srv/tap-trading";
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  readonly name: string;
  /** The sandbox's root as the host sees it (the overlay mount). */
  readonly root: string;
  /** The host PID of the sandbox's systemd (its PID 1); changes at each boot. */
  leader(): number;
  /** Boots (or boots again after `poweroff`) and waits until systemd reports the boot finished. */
  boot(): Promise<void>;
  /** Runs `cmd` inside the sandbox, in all of its namespaces (`nsenter -a`), as root. */
  exec(cmd: string[], options?: { timeoutMs?: number }): Promise<CommandResult>;
  /** Runs a host program inside the sandbox's network only: it reaches the sandbox's localhost. */
  execInNetwork(cmd: string[], options?: { timeoutMs?: number }): Promise<CommandResult>;
  /** `systemctl poweroff`, then waits for systemd-nspawn to exit (killing it after `timeoutMs`). */
  poweroff(timeoutMs?: number): Promise<void>;
  /** The sandbox's console so far (what systemd printed while booting and stopping). */
  console(): string;
  /** Powers off if running, then removes the mounts, the cgroups and nspawn's leftovers. */
  destroy(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface CreateSandboxOptions {
  /** A checkout of this project, bound read-only at /srv/tap-trading. */
  source: string;
  /** How long one boot may take to finish. */
  bootTimeoutMs?: number;
}

/** Why a sandbox cannot be had on this machine, or undefined when it can. */
export function sandboxUnavailable(): string | undefined {
  if (process.platform !== "linux") return "systemd-nspawn needs Linux";
  if (process.getuid?.() !== 0) return "booting a systemd sandbox needs root";
  for (const program of ["systemd-nspawn", "nsenter", "unshare", "mount", "umount"]) {
    if (!Bun.which(program, { PATH })) {
      return program === "systemd-nspawn"
        ? "systemd-nspawn is not installed (deploy/ensure-nspawn.sh installs systemd-container)"
        : `${program} is not installed`;
    }
  }
  if (!existsSync("/lib/systemd/systemd") && !existsSync("/usr/lib/systemd/systemd")) return "systemd is not installed";
  if (!existsSync(join(CGROUP_V2, "cgroup.procs"))) return `no cgroup v2 hierarchy at ${CGROUP_V2}`;
  if (!existsSync(join(CGROUP_V1, "cgroup.procs"))) return `no name=systemd cgroup hierarchy at ${CGROUP_V1}`;
  if (!readFileSync("/proc/filesystems", "utf8").includes("overlay")) return "the kernel has no overlayfs";
  return undefined;
}

/**
 * Mounts a fresh overlay of `/` and prepares it to boot: the host image's own
 * enabled services and timers are switched off (the installer enables what it
 * needs), and any earlier install is hidden. Call `boot()` next.
 *
 * ```ts
 * await using sandbox = await createSandbox({ source: "/work/main" });
 * await sandbox.boot();
 * await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`]);
 * ```
 */
export async function createSandbox({ source, bootTimeoutMs = 60_000 }: CreateSandboxOptions): Promise<Sandbox> {
  const reason = sandboxUnavailable();
  if (reason) throw new Error(`no sandbox: ${reason}`);
  const name = `${NAME_PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const dir = join("/run", name);
  const root = join(dir, "root");
  mkdirSync(dir, { recursive: true });
  await run(["mount", "-t", "tmpfs", "-o", "mode=0700,size=2g", "tmpfs", dir]);
  for (const sub of ["upper", "work", "root"]) mkdirSync(join(dir, sub));
  await run(["mount", "-t", "overlay", "overlay", "-o", `lowerdir=/,upperdir=${dir}/upper,workdir=${dir}/work`, root]);
  prepareRoot(root);

  let nspawn: ReturnType<typeof Bun.spawn> | undefined;
  let leaderPid = 0;
  let consoleText = "";
  const lockFile = lockFileOf(root);

  const boot = async () => {
    if (nspawn && nspawn.exitCode === null) throw new Error(`${name} is already running`);
    resetCgroups(name);
    rmSync(lockFile, { force: true });
    // The shell moves itself into cgroups of its own, which nspawn (--keep-unit) then
    // uses as the container's; unshare --kill-child ends nspawn if the shell's parent dies.
    const script = [
      `echo $$ > ${CGROUP_V1}/${name}/cgroup.procs`,
      `echo $$ > ${CGROUP_V2}/${name}/cgroup.procs`,
      `exec unshare --pid --kill-child systemd-nspawn --quiet -D ${root} -M ${name} -b --register=no --keep-unit ` +
        `--link-journal=no --console=read-only --private-network --bind-ro=${source}:${SANDBOX_SOURCE}`,
    ].join(" && ");
    const proc = Bun.spawn(["sh", "-c", script], {
      env: { PATH, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: "1", SYSTEMD_COLORS: "0", TERM: "dumb" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    nspawn = proc;
    for (const stream of [proc.stdout, proc.stderr] as ReadableStream<Uint8Array>[]) {
      void (async () => {
        const decoder = new TextDecoder();
        for await (const chunk of stream) consoleText += decoder.decode(chunk, { stream: true });
      })();
    }
    const deadline = Date.now() + bootTimeoutMs;
    while (!(leaderPid = findLeader(name))) {
      if (proc.exitCode !== null) throw new Error(`systemd-nspawn exited with ${proc.exitCode}:\n${consoleText}`);
      if (Date.now() > deadline) throw new Error(`no systemd started in ${name} within ${bootTimeoutMs} ms:\n${consoleText}`);
      await Bun.sleep(20);
    }
    // Until systemd has opened its socket, systemctl answers "offline" at once.
    let state = await exec(["systemctl", "is-system-running", "--wait"], { timeoutMs: Math.max(1000, deadline - Date.now()) });
    while (["offline", ""].includes(state.stdout.trim()) && Date.now() < deadline) {
      await Bun.sleep(50);
      state = await exec(["systemctl", "is-system-running", "--wait"], { timeoutMs: Math.max(1000, deadline - Date.now()) });
    }
    if (state.stdout.trim() !== "running") {
      const failed = await exec(["systemctl", "--failed", "--no-legend", "--plain"]);
      throw new Error(`${name} booted "${state.stdout.trim()}", not "running"; failed units:\n${failed.stdout}`);
    }
  };

  const exec = (cmd: string[], { timeoutMs = 60_000 } = {}) => {
    if (!leaderPid) throw new Error(`${name} is not running`);
    return run(["nsenter", "-t", String(leaderPid), "-a", ...cmd], { timeoutMs, check: false });
  };
  const execInNetwork = (cmd: string[], { timeoutMs = 60_000 } = {}) => {
    if (!leaderPid) throw new Error(`${name} is not running`);
    return run(["nsenter", `--net=/proc/${leaderPid}/ns/net`, ...cmd], { timeoutMs, check: false, inheritEnv: true });
  };

  const poweroff = async (timeoutMs = 30_000) => {
    const proc = nspawn;
    if (!proc || proc.exitCode !== null) return;
    await exec(["systemctl", "poweroff", "--no-block"], { timeoutMs: 5000 }).catch(() => undefined);
    const stopped = await Promise.race([proc.exited.then(() => true), Bun.sleep(timeoutMs).then(() => false)]);
    if (!stopped) {
      killCgroup(name);
      await proc.exited;
    }
    leaderPid = 0;
  };

  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    await poweroff(20_000).catch(() => undefined);
    killCgroup(name);
    if (nspawn) await Promise.race([nspawn.exited, Bun.sleep(5000)]);
    await unmount(root);
    await unmount(dir);
    rmSync(dir, { recursive: true, force: true });
    removeCgroups(name);
    rmSync(lockFile, { force: true });
    rmSync(`/run/systemd/nspawn/propagate/${name}`, { recursive: true, force: true });
  };

  return {
    name,
    root,
    leader: () => leaderPid,
    boot,
    exec,
    execInNetwork,
    poweroff,
    console: () => consoleText,
    destroy,
    [Symbol.asyncDispose]: destroy,
  };
}

/** Switches off what the host image enables, and hides any earlier install of ours. */
function prepareRoot(root: string): void {
  const system = join(root, "etc/systemd/system");
  for (const entry of readdirSync(system)) {
    if (entry.endsWith(".wants")) rmSync(join(system, entry), { recursive: true, force: true });
  }
  for (const path of ["opt/app", "data", "etc/tap-trading", "var/lib/tap-trading", "etc/nginx/sites-enabled/tap-trading.conf", "etc/nginx/sites-available/tap-trading.conf"]) {
    rmSync(join(root, path), { recursive: true, force: true });
  }
  for (const entry of readdirSync(system)) {
    if (entry.startsWith("tap-trading-")) rmSync(join(system, entry), { force: true });
  }
  // This image runs its own Redis as root, so /var/lib/redis is root's; Debian's
  // redis-server.service runs as redis and could not save (nor stop) without it.
  const passwd = readFileSync(join(root, "etc/passwd"), "utf8");
  const redis = /^redis:[^:]*:(\d+):(\d+):/m.exec(passwd);
  if (redis && existsSync(join(root, "var/lib/redis"))) {
    Bun.spawnSync(["chown", "-R", `${redis[1]}:${redis[2]}`, join(root, "var/lib/redis")]);
  }
}

/** The host PID of the sandbox's PID 1: a process in its cgroups that is PID 1 of its own namespace. */
function findLeader(name: string): number {
  for (const procsFile of cgroupProcFiles(join(CGROUP_V2, name))) {
    for (const pid of readFileSync(procsFile, "utf8").split("\n").filter(Boolean)) {
      try {
        const status = readFileSync(`/proc/${pid}/status`, "utf8");
        const nspid = /^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/);
        // unshare's namespace makes nspawn PID 1 too; systemd is PID 1 one level deeper
        // (and counts only once nspawn's child has become it).
        const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
        if (nspid && nspid.length >= 3 && nspid.at(-1) === "1" && comm === "systemd") return Number(pid);
      } catch {
        // The process ended while we looked.
      }
    }
  }
  return 0;
}

function cgroupProcFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files = [join(dir, "cgroup.procs")];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) files.push(...cgroupProcFiles(join(dir, entry.name)));
  }
  return files;
}

function killCgroup(name: string): void {
  const kill = join(CGROUP_V2, name, "cgroup.kill");
  if (existsSync(kill)) writeFileSync(kill, "1");
}

/** Removes a cgroup tree, children first (a cgroup is removed with rmdir once empty). */
function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeCgroupTree(join(dir, entry.name));
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch {
      Bun.sleepSync(20); // its last processes are still being reaped
    }
  }
  throw new Error(`could not remove the cgroup ${dir}`);
}

function removeCgroups(name: string): void {
  removeCgroupTree(join(CGROUP_V2, name));
  removeCgroupTree(join(CGROUP_V1, name));
}

/** Empty cgroups of our own for a (new) boot: a previous boot's subtree would confuse nspawn. */
function resetCgroups(name: string): void {
  removeCgroups(name);
  mkdirSync(join(CGROUP_V1, name));
  mkdirSync(join(CGROUP_V2, name));
}

/** The lock systemd-nspawn takes on an image folder, and may leave behind when killed. */
function lockFileOf(root: string): string {
  const { dev, ino } = statSync(root);
  return `/run/systemd/nspawn/locks/inode-${dev}:${ino}`;
}

function isMounted(path: string): boolean {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[1] === path);
}

async function unmount(path: string): Promise<void> {
  if (!isMounted(path)) return;
  const result = await run(["umount", path], { check: false });
  if (result.code !== 0) await run(["umount", "--lazy", path]);
}

async function run(
  cmd: string[],
  { timeoutMs = 60_000, check = true, inheritEnv = false }: { timeoutMs?: number; check?: boolean; inheritEnv?: boolean } = {},
): Promise<CommandResult> {
  const env = inheritEnv ? { ...process.env, PATH: `${process.env.PATH ?? ""}:${PATH}` } : { PATH, LANG: "C.UTF-8", SYSTEMD_COLORS: "0", SYSTEMD_PAGER: "" };
  const proc = Bun.spawn(cmd, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  const killed = proc.signalCode === "SIGKILL";
  if (check && code !== 0) throw new Error(`${cmd.join(" ")} exited with ${code}${killed ? " (timed out)" : ""}: ${stderr}`);
  return { code: killed ? 124 : code, stdout, stderr };
}

/** Removes sandboxes whose run was killed before it could clean up. */
export async function cleanupStaleSandboxes(): Promise<string[]> {
  const stale = readdirSync("/run").filter((entry) => entry.startsWith(NAME_PREFIX));
  for (const name of readdirSync(CGROUP_V2)) if (name.startsWith(NAME_PREFIX) && !stale.includes(name)) stale.push(name);
  for (const name of stale) {
    const pid = Number(name.slice(NAME_PREFIX.length).split("-")[0]);
    if (pid && pid !== process.pid && existsSync(`/proc/${pid}`)) continue; // its owner still runs
    killCgroup(name);
    await Bun.sleep(100);
    const root = join("/run", name, "root");
    if (isMounted(root)) rmSync(lockFileOf(root), { force: true });
    await unmount(root);
    await unmount(join("/run", name));
    rmSync(join("/run", name), { recursive: true, force: true });
    removeCgroups(name);
    rmSync(`/run/systemd/nspawn/propagate/${name}`, { recursive: true, force: true });
  }
  return stale;
}

if (import.meta.main) {
  if (process.argv.includes("--cleanup")) {
    const removed = await cleanupStaleSandboxes();
    console.log(removed.length ? `removed ${removed.join(", ")}` : "nothing to remove");
    process.exit(0);
  }
  const source = join(import.meta.dir, "..");
  const sandbox = await createSandbox({ source });
  const stop = async () => {
    console.log(`removing ${sandbox.name}`);
    await sandbox.destroy();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  try {
    await sandbox.boot();
    const install = await sandbox.exec([`${SANDBOX_SOURCE}/deploy/install.sh`], { timeoutMs: 120_000 });
    process.stdout.write(install.stderr);
    if (install.code !== 0) throw new Error("deploy/install.sh failed");
  } catch (error) {
    console.error(String(error));
    await sandbox.destroy();
    process.exit(1);
  }
  console.log(`\n${sandbox.name} is up. Enter it with:\n  sudo nsenter -t ${sandbox.leader()} -a bash\n  (then: systemctl status 'tap-trading-*'; curl localhost/api/healthz)\nCtrl-C powers it off and removes it.`);
  await new Promise(() => undefined);
}
