/**
 * Bundles the page into static files: `index.html`, one minified script and one
 * stylesheet, each named by its content hash so they can be cached for ever.
 *
 *   bun web/build.ts               # → dist/web
 *   bun web/build.ts /opt/app/web  # → wherever Nginx serves from
 *
 * The output directory is replaced whole, so no stale asset lingers.
 *
 * @module
 */
import { mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** Where the page was built, and each file's size, raw and gzipped. */
export interface WebBuild {
  outDir: string;
  files: { path: string; bytes: number; gzipBytes: number }[];
}

/** Builds the page into `outDir`; throws with the bundler's messages when the build fails. */
export async function buildWeb(outDir: string): Promise<WebBuild> {
  const target = resolve(outDir);
  const staging = `${target}.building-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(dirname(target), { recursive: true });
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, "index.html")],
    outdir: staging,
    target: "browser",
    minify: true,
    sourcemap: "none",
    naming: { entry: "[name].[ext]", chunk: "[name]-[hash].[ext]", asset: "[name]-[hash].[ext]" },
  });
  if (!result.success) {
    rmSync(staging, { recursive: true, force: true });
    throw new AggregateError(result.logs, `web build failed:\n${result.logs.map(String).join("\n")}`);
  }
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
  const files = await Promise.all(
    result.outputs.map(async (output) => {
      const path = join(target, output.path.slice(staging.length + 1));
      const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
      return { path, bytes: bytes.length, gzipBytes: Bun.gzipSync(bytes, { level: 9 }).length };
    }),
  );
  return { outDir: target, files };
}

if (import.meta.main) {
  const outDir = process.argv[2] ?? join(import.meta.dir, "..", "dist", "web");
  const build = await buildWeb(outDir);
  for (const file of build.files) {
    console.log(`web: ${file.path}  ${(file.bytes / 1024).toFixed(1)} KiB, ${(file.gzipBytes / 1024).toFixed(1)} KiB gzipped`);
  }
  const total = build.files.reduce((sum, file) => sum + file.gzipBytes, 0);
  console.log(`web: ${build.files.length} files in ${build.outDir}, ${(total / 1024).toFixed(1)} KiB gzipped in all`);
}
