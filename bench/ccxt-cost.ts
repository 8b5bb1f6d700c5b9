/**
 * What ccxt would cost the price service (issue 12): installs ccxt (and the
 * protobufjs it needs to bundle) from the npm registry into a temp folder,
 * compiles two probes with `bun build --compile` (one that imports ccxt and
 * makes its Coinbase websocket exchange object, one bare), and reports each
 * binary's size and the peak RSS of running it. Nothing is added to the project.
 *
 *   bun bench/ccxt-cost.ts [--version 4.5.84]
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { version: { type: "string", default: "4.5.84" } } });
const bun = process.execPath;
const dir = mkdtempSync(join(tmpdir(), "tap-ccxt-"));

function run(cmd: string[], what: string): string {
  const result = Bun.spawnSync(cmd, { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${what} failed (${result.exitCode}): ${result.stderr.toString().slice(-2000)}`);
  return result.stdout.toString();
}

/** Peak RSS in MiB of running `binary` once, read from /proc through GNU time's -v report when present, else from the probe's own line. */
function peakRss(binary: string): { peak_mib: number; own_rss_mib: number } {
  const result = Bun.spawnSync(["/usr/bin/time", "-v", binary], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  const own = JSON.parse(result.stdout.toString().trim().split("\n").at(-1) ?? "{}") as { rss_mb?: number };
  const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr.toString());
  return { peak_mib: match ? Math.round(Number(match[1]) / 102.4) / 10 : Number.NaN, own_rss_mib: own.rss_mb ?? Number.NaN };
}

try {
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "ccxt-cost", private: true, type: "module" }));
  process.stderr.write(`installing ccxt@${values.version} and protobufjs in ${dir}\n`);
  run(["npm", "install", "--no-audit", "--no-fund", `ccxt@${values.version}`, "protobufjs"], "npm install");
  const rss = "Math.round(process.memoryUsage.rss() / 1e5) / 10";
  writeFileSync(join(dir, "with-ccxt.ts"), `import ccxt from "ccxt";\nconst exchange = new ccxt.pro.coinbaseexchange({});\nconsole.log(JSON.stringify({ watchTicker: typeof exchange.watchTicker, rss_mb: ${rss} }));\n`);
  writeFileSync(join(dir, "bare.ts"), `console.log(JSON.stringify({ websocket: typeof WebSocket, rss_mb: ${rss} }));\n`);
  const rows = [];
  for (const name of ["bare", "with-ccxt"]) {
    run([bun, "build", "--compile", `${name}.ts`, "--outfile", name], `compiling ${name}`);
    rows.push({ probe: name, binary_mib: Math.round(statSync(join(dir, name)).size / 104857.6) / 10, ...peakRss(join(dir, name)) });
  }
  console.log(`bun ${Bun.version}, ccxt ${values.version}`);
  console.table(rows);
  const [bare, withCcxt] = rows as [(typeof rows)[0], (typeof rows)[0]];
  console.log(`ccxt adds ${(withCcxt.binary_mib - bare.binary_mib).toFixed(1)} MiB to the binary and ${(withCcxt.peak_mib - bare.peak_mib).toFixed(1)} MiB to its peak RSS at import`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
