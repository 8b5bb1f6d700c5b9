import { TypeCompiler } from "@sinclair/typebox/compiler";
import { type ClientCommand as ClientCommandType, ClientCommand } from "../common/contracts/ws.ts";

/**
 * What a text message from a client turned out to be.
 *
 * ```ts
 * const read: ReadMessage = readMessage(text);
 * if (read.kind === "command") console.log(read.command.type);
 * ```
 */
export type ReadMessage =
  /** One of the commands, well formed. */
  | { kind: "command"; command: ClientCommandType }
  /** A command's `type` with a bad shape (e.g. `subscribe` without a channel): answered with an error. */
  | { kind: "malformed"; type: string }
  /** Anything else, invalid JSON included: echoed back unchanged. */
  | { kind: "other" };

const COMMAND_TYPES = new Set<string>(["ping", "subscribe", "unsubscribe", "auth"]);
const OTHER: ReadMessage = { kind: "other" };
const OPEN_BRACE = "{".charCodeAt(0);
// Compiled once: every command a client sends is checked.
const isClientCommand = TypeCompiler.Compile(ClientCommand);

/**
 * Reads a client's text message as a command. Cheap for the common case: a
 * message that does not start with `{` is never parsed.
 *
 * ```ts
 * readMessage('{"type":"ping"}'); // { kind: "command", command: { type: "ping" } }
 * readMessage("hello");           // { kind: "other" }
 * ```
 */
export function readMessage(text: string): ReadMessage {
  if (text.charCodeAt(0) !== OPEN_BRACE && !text.trimStart().startsWith("{")) return OTHER;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return OTHER;
  }
  if (typeof value !== "object" || value === null || !("type" in value) || typeof value.type !== "string") return OTHER;
  if (!COMMAND_TYPES.has(value.type)) return OTHER;
  return isClientCommand.Check(value) ? { kind: "command", command: value } : { kind: "malformed", type: value.type };
}
