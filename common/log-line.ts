import type { DestinationStream } from "pino";
import { isoNow, jsonString } from "./log.ts";

/**
 * The JSON fields of one line, written as `"name":value` pairs joined by commas, every value already JSON.
 *
 * ```ts
 * const fields: LineFields = `"conn":${jsonString(id)},"code":1000`;
 * ```
 */
export type LineFields = string;

/**
 * A writer of one kind of info line, in the JSON shape `createLogger` writes
 * (`level`, `time`, `component`, the fields, `msg`), built by hand from a
 * template: for lines written on hot paths (a request, a connection), where
 * pino's generic serialiser was the largest single cost. Everything but the
 * fields and the time is made once, here. Values a client chose must go
 * through `jsonString`.
 *
 * ```ts
 * const requestLine = createLogLine(sink, { component: "api", msg: "request" });
 * requestLine(`"method":${jsonString(method)},"status":${status}`);
 * // {"level":"info","time":"…","component":"api","method":"GET","status":200,"msg":"request"}
 * ```
 */
export function createLogLine(sink: DestinationStream, { component, msg }: { component: string; msg: string }): (fields: LineFields) => void {
  const componentField = `"component":${jsonString(component)},`;
  const msgField = `,"msg":${jsonString(msg)}}\n`;
  return (fields) => {
    sink.write(`{"level":"info","time":"${isoNow()}",${componentField}${fields}${msgField}`);
  };
}
