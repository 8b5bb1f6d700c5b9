/** How a child process ended. */
export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

/** One supervised process with its output read line by line. */
export interface Child {
  readonly name: string;
  readonly pid: number;
  /** Resolves once the process has exited and its output has been read to the end. */
  readonly exited: Promise<ExitStatus>;
  /** True until the process has exited. */
  running(): boolean;
  /** Sends `signal` if the process is still running. */
  kill(signal: NodeJS.Signals): void;
}

export interface SpawnChildOptions {
  name: string;
  cmd: string[];
  cwd: string;
  env: Record<string, string>;
  /** Called with every line the child writes to stdout or stderr, without its newline. */
  onLine(name: string, line: string): void;
}

/** How long output may keep arriving after exit (a grandchild can hold the pipe open). */
const OUTPUT_GRACE_MS = 1000;

/**
 * Starts `cmd` in its own process group, so a Ctrl-C in the terminal reaches
 * only the supervisor, which then stops the children in order (services
 * first, Redis last) instead of all at once.
 *
 * ```ts
 * const child = spawnChild({ name: "api", cmd: ["bun", "api/main.ts"], cwd, env, onLine: print });
 * child.kill("SIGTERM");
 * const { code, signal } = await child.exited;
 * ```
 */
export function spawnChild({ name, cmd, cwd, env, onLine }: SpawnChildOptions): Child {
  const proc = Bun.spawn(cmd, { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true });
  const output = Promise.all([readLines(proc.stdout, (line) => onLine(name, line)), readLines(proc.stderr, (line) => onLine(name, line))]);
  const exited = proc.exited.then(async () => {
    await Promise.race([output, Bun.sleep(OUTPUT_GRACE_MS)]);
    return { code: proc.exitCode, signal: proc.signalCode === null ? null : String(proc.signalCode) } satisfies ExitStatus;
  });
  return {
    name,
    pid: proc.pid,
    exited,
    running: () => proc.exitCode === null && proc.signalCode === null,
    kill(signal) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
}

/** Calls `onLine` for each line of `stream`, including a last one without a newline. */
export async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      onLine(buffered.slice(0, newline).replace(/\r$/, ""));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  }
  buffered += decoder.decode();
  if (buffered) onLine(buffered.replace(/\r$/, ""));
}
