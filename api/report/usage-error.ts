import { parseArgs, type ParseArgsConfig } from "node:util";

/**
 * A command line the operator got wrong: the command prints its message and
 * the usage, and exits 2, never with a stack trace.
 *
 * ```ts
 * throw new UsageError("--day: expected YYYY-MM-DD, got \"yesterday\"");
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Exit status for a bad command line (as `api/replay.ts` and the shells use it).
 *
 * ```ts
 * if (error instanceof UsageError) return EXIT_USAGE;
 * ```
 */
export const EXIT_USAGE = 2;

/**
 * `node:util`'s strict `parseArgs` with no positionals, whose refusals
 * (an unknown option, a missing value) become a `UsageError`.
 *
 * ```ts
 * const { values } = parseOptions(["--json"], { json: { type: "boolean" } }); // { json: true }
 * ```
 */
export function parseOptions<O extends NonNullable<ParseArgsConfig["options"]>>(argv: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
