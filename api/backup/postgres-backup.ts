import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { urlPassword } from "../../common/redact.ts";
import { hideUrlPassword } from "../report/database-url.ts";
import { type BackupResult, fsyncPath } from "./backup.ts";
import { backupName } from "./retention.ts";

/**
 * What `backupPostgres` dumps, where to, its clock (names the file) and the
 * environment its tools are found in (PATH) and run with.
 *
 * ```ts
 * const options: PostgresBackupOptions = { url: process.env.DATABASE_URL!, dir: "/data/backups", env: process.env, now: Date.now };
 * ```
 */
export interface PostgresBackupOptions {
  url: string;
  dir: string;
  env: Record<string, string | undefined>;
  now?: () => number;
}

/**
 * What to install when pg_dump or pg_restore is missing.
 *
 * ```ts
 * throw new Error(`pg_dump not found on PATH: ${CLIENT_PACKAGE_HINT}`);
 * ```
 */
export const CLIENT_PACKAGE_HINT = "install the PostgreSQL client tools, package postgresql-client (apt-get install postgresql-client), of the server's major version or newer";

/** The tables a dump of the bets database must hold the data of. */
const REQUIRED_TABLES = ["players", "bets", "ledger"] as const;
/** Lines of a tool's stderr kept in an error message. */
const STDERR_LINES = 5;

/**
 * `url` without the password of its user info: what goes on pg_dump's
 * command line, which other users of the host can read in /proc.
 *
 * ```ts
 * urlWithoutPassword("postgres://tap:pw@db.internal/tap?sslmode=require"); // "postgres://tap@db.internal/tap?sslmode=require"
 * ```
 */
export function urlWithoutPassword(url: string): string {
  // Up to the last "@", as urlPassword reads it: an unencoded password may hold "@" or "/".
  const match = /^([a-z][a-z0-9+.-]*:\/\/)(.*)@(.*)$/is.exec(url);
  if (!match) return url;
  const [, scheme, userinfo, rest] = match as unknown as [string, string, string, string];
  const colon = userinfo.indexOf(":");
  return `${scheme}${colon < 0 ? userinfo : userinfo.slice(0, colon)}@${rest}`;
}

/**
 * The pg_dump command line (after the program) and the environment it adds:
 * the custom format (compressed, restored table by table with pg_restore),
 * never a password prompt, the URL without its password (that goes in
 * PGPASSWORD, which only the process and root can read), and a connect
 * timeout unless the environment sets one.
 *
 * ```ts
 * const { args, env } = pgDumpInvocation("postgres://tap:pw@db/tap", "/data/backups/.bets-….dump.42.tmp", {});
 * // args: ["--format=custom", "--no-password", "--file=/data/backups/.bets-….dump.42.tmp", "--dbname=postgres://tap@db/tap"]; env: { PGPASSWORD: "pw", PGCONNECT_TIMEOUT: "10" }
 * ```
 */
export function pgDumpInvocation(url: string, file: string, env: Record<string, string | undefined>): { args: string[]; env: Record<string, string> } {
  const password = urlPassword(url);
  return {
    args: ["--format=custom", "--no-password", `--file=${file}`, `--dbname=${urlWithoutPassword(url)}`],
    env: { ...(password !== undefined ? { PGPASSWORD: password } : {}), ...(env.PGCONNECT_TIMEOUT ? {} : { PGCONNECT_TIMEOUT: "10" }) },
  };
}

/** The program's path on the environment's PATH, or an error saying what to install. */
function tool(name: string, env: Record<string, string | undefined>): string {
  const path = Bun.which(name, { PATH: env.PATH ?? "" });
  if (path === null) throw new Error(`${name} not found on PATH: ${CLIENT_PACKAGE_HINT}`);
  return path;
}

/** Runs a program to its end; its stdout, and its stderr's last lines for an error. */
async function run(cmd: string[], env: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn(cmd, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr: stderr.trim().split("\n").slice(-STDERR_LINES).join(" | ") };
}

/**
 * Checks a dump with `pg_restore --list` (it reads the whole table of
 * contents, and fails on a truncated or foreign file) and that it holds the
 * data of players, bets and ledger; throws saying what is wrong.
 *
 * ```ts
 * await verifyDump("/data/backups/bets-2026-12-02T060000.123Z.dump", process.env);
 * ```
 */
export async function verifyDump(path: string, env: Record<string, string | undefined>): Promise<void> {
  const listed = await run([tool("pg_restore", env), "--list", path], env);
  if (listed.code !== 0) throw new Error(`pg_restore --list of the dump failed (exit ${listed.code}): ${listed.stderr}`);
  const missing = REQUIRED_TABLES.filter((table) => !new RegExp(`^\\d+; \\d+ \\d+ TABLE DATA \\S+ ${table} `, "m").test(listed.stdout));
  if (missing.length > 0) throw new Error(`the dump holds no data of ${missing.join(", ")}`);
}

/**
 * A backup of the PostgreSQL database at `url`: `pg_dump --format=custom`
 * (one REPEATABLE READ snapshot of every table; the API nodes write on) into
 * a temp file in `dir` (mode 0600), which is fsynced, checked with
 * `verifyDump`, then renamed to `bets-<UTC time>.dump` and the folder
 * fsynced. Throws (and leaves no file) when pg_dump is missing, fails, or its
 * dump does not check; no message holds the URL's password.
 *
 * ```ts
 * const { path } = await backupPostgres({ url: process.env.DATABASE_URL!, dir: "/data/backups", env: process.env });
 * ```
 */
export async function backupPostgres({ url, dir, env, now = Date.now }: PostgresBackupOptions): Promise<BackupResult> {
  const pgDump = tool("pg_dump", env);
  tool("pg_restore", env); // before the dump: a dump that cannot be checked is not kept
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  const started = performance.now();
  const name = backupName(now(), "dump");
  const final = join(dir, name);
  const temp = join(dir, `.${name}.${process.pid}.tmp`);
  try {
    // Created first with its mode: pg_dump keeps an existing file's, where it would make one by the umask.
    writeFileSync(temp, "", { mode: 0o600 });
    const invocation = pgDumpInvocation(url, temp, env);
    const dumped = await run([pgDump, ...invocation.args], { ...env, ...invocation.env });
    if (dumped.code !== 0) throw new Error(`pg_dump failed (exit ${dumped.code}): ${dumped.stderr}`);
    fsyncPath(temp);
    await verifyDump(temp, env);
    renameSync(temp, final);
    fsyncPath(dir);
  } catch (error) {
    rmSync(temp, { force: true });
    throw new Error(hideUrlPassword((error as Error).message, url));
  }
  return { path: final, bytes: statSync(final).size, ms: Math.round(performance.now() - started) };
}
