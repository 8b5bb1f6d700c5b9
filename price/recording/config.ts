import { Type as t } from "@sinclair/typebox";
import { envVar, loadConfig } from "../../common/config.ts";

const MIB = 1024 * 1024;

const spec = {
  /** Unset: nothing is recorded. */
  dir: envVar({ name: "PRICE_RECORD_DIR", schema: t.String({ pattern: "^/" }), fallback: "" }),
  maxBytes: envVar({ name: "PRICE_RECORD_MAX_BYTES", schema: t.Integer({ minimum: 4096, maximum: 4096 * MIB }), fallback: 64 * MIB }),
  maxFiles: envVar({ name: "PRICE_RECORD_FILES", schema: t.Integer({ minimum: 1, maximum: 10_000 }), fallback: 24 }),
};

/**
 * Recording (docs/price-index.md, "Recording and replay"): where, and how much at most.
 *
 * ```ts
 * const recording: RecordingConfig = { dir: "/var/lib/tap/price", maxBytes: 64 * 1024 * 1024, maxFiles: 24 };
 * ```
 */
export interface RecordingConfig {
  /** An absolute directory; undefined when recording is off. */
  dir: string | undefined;
  /** A file's size before the next begins, bytes. */
  maxBytes: number;
  /** Files kept; the oldest go first. */
  maxFiles: number;
}

/**
 * Reads `PRICE_RECORD_DIR` (an absolute path; unset or empty: no recording),
 * `PRICE_RECORD_MAX_BYTES` (a file's size before the next begins, 64 MiB by
 * default) and `PRICE_RECORD_FILES` (files kept, 24 by default), throwing a
 * `ConfigError` that names the variable.
 *
 * ```ts
 * readRecordingConfig({ PRICE_RECORD_DIR: "/var/lib/tap/price" }); // { dir: "/var/lib/tap/price", maxBytes: 67108864, maxFiles: 24 }
 * ```
 */
export function readRecordingConfig(env: Record<string, string | undefined>): RecordingConfig {
  const { dir, maxBytes, maxFiles } = loadConfig(spec, env);
  return { dir: dir === "" ? undefined : dir, maxBytes, maxFiles };
}
