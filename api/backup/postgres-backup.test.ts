import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backupPostgres, pgDumpInvocation, urlWithoutPassword, verifyDump } from "./postgres-backup.ts";

const URL_WITH_PASSWORD = "postgres://tap:p%40ss-do-not-show@db.internal:5432/tap?sslmode=require";

describe("pgDumpInvocation", () => {
  test("dumps in the custom format without a prompt; the password goes in PGPASSWORD, decoded, never on the command line", () => {
    const { args, env } = pgDumpInvocation(URL_WITH_PASSWORD, "/b/.x.tmp", {});
    expect(args).toEqual(["--format=custom", "--no-password", "--file=/b/.x.tmp", "--dbname=postgres://tap@db.internal:5432/tap?sslmode=require"]);
    expect(args.join(" ")).not.toContain("do-not-show");
    expect(env).toEqual({ PGPASSWORD: "p@ss-do-not-show", PGCONNECT_TIMEOUT: "10" });
  });

  test("no password, no PGPASSWORD; a PGCONNECT_TIMEOUT already set is kept", () => {
    expect(pgDumpInvocation("postgres://tap@db/tap", "/b/x", { PGCONNECT_TIMEOUT: "3" }).env).toEqual({});
  });
});

describe("urlWithoutPassword", () => {
  test("drops only the password, up to the last @ as urlPassword reads it", () => {
    expect(urlWithoutPassword("postgresql://u:a@b/c@h:5432/d")).toBe("postgresql://u@h:5432/d");
    expect(urlWithoutPassword("postgres://u@h/d")).toBe("postgres://u@h/d");
    expect(urlWithoutPassword("postgres://h/d")).toBe("postgres://h/d");
  });
});

describe("backupPostgres", () => {
  test("without pg_dump on PATH it fails naming the package to install, and leaves no file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tap-pgbackup-"));
    try {
      const out = join(dir, "backups");
      const error = await backupPostgres({ url: URL_WITH_PASSWORD, dir: out, env: { PATH: dir } }).catch((caught: Error) => caught);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toStartWith("pg_dump not found on PATH");
      expect((error as Error).message).toContain("postgresql-client");
      expect((error as Error).message).not.toContain("do-not-show");
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  // The test above covers a host without the client.
  test.skipIf(!Bun.which("pg_dump"))("a server that does not answer fails the run, no password in the message, no file left", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tap-pgbackup-"));
    try {
      // Nothing listens on port 1.
      const url = "postgres://tap:pw-do-not-show@127.0.0.1:1/tap";
      const error = await backupPostgres({ url, dir, env: { PATH: process.env.PATH } }).catch((caught: Error) => caught);
      expect((error as Error).message).toStartWith("pg_dump failed (exit 1): ");
      expect((error as Error).message).not.toContain("pw-do-not-show");
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe.skipIf(!Bun.which("pg_restore"))("verifyDump", () => {
  test("refuses a file that is not a custom-format dump", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tap-pgverify-"));
    try {
      const path = join(dir, "x.dump");
      writeFileSync(path, "PGDMP but not really a dump");
      await expect(verifyDump(path, process.env)).rejects.toThrow(/pg_restore --list of the dump failed/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
