import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The session secret for `make run`: made once in the run folder (0600) and
 * kept, so a player's session survives a restart of the system.
 */
export function ensureDevSecret(path: string): string {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64");
    writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  }
  chmodSync(path, 0o600);
  return path;
}
