/**
 * Turns the services' pino JSON lines into one readable line each:
 * `HH:MM:SS.mmm api   INFO  api listening port=8080 db=.run/data/bets.db`.
 * Lines that are not pino JSON (redis-server's own log, a crash trace) keep
 * their text behind the same time and service prefix.
 */

export interface LogFormatOptions {
  /** Width of the service column: the longest service name. */
  nameWidth: number;
  /** ANSI colours; for a terminal only. */
  color: boolean;
  /** The clock for lines that carry no time of their own. */
  now?: () => Date;
}

/** A pino record as the services write it (`formatters.level` gives the label). */
export type LogRecord = Record<string, unknown>;

const PINO_LEVELS: Record<number, string> = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };

const RESET = "\x1b[0m";
const DIM = "\x1b[2m";
const BOLD = "\x1b[1m";
const LEVEL_COLORS: Record<string, string> = {
  trace: "\x1b[90m",
  debug: "\x1b[36m",
  info: "\x1b[32m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
  fatal: "\x1b[1;41;97m",
};
const SERVICE_COLORS: Record<string, string> = { api: "\x1b[35m", ws: "\x1b[34m", price: "\x1b[36m", redis: "\x1b[31m", run: "\x1b[1m" };
const OTHER_SERVICE_COLORS = ["\x1b[95m", "\x1b[94m", "\x1b[96m", "\x1b[93m"];

/** Fields every record has, shown in the columns rather than as `key=value`. */
const COLUMN_FIELDS = new Set(["level", "time", "msg", "hostname", "v"]);

/**
 * Formats one output line of `service`.
 *
 * ```ts
 * formatLogLine("api", '{"level":"info","time":"2025-01-01T12:00:00.000Z","component":"api","msg":"api listening","port":8080}', { nameWidth: 5, color: false });
 * // "13:00:00.000 api   INFO  api listening port=8080" (in the local time zone)
 * ```
 */
export function formatLogLine(service: string, line: string, options: LogFormatOptions): string {
  const record = parsePinoLine(line);
  if (record) return formatLogRecord(service, record, options);
  const now = options.now?.() ?? new Date();
  return `${prefix(service, now, options)} ${line}`;
}

/** Formats a record the supervisor itself logs, in the same shape as the services' lines. */
export function formatLogRecord(service: string, record: LogRecord, options: LogFormatOptions): string {
  const time = recordTime(record.time) ?? options.now?.() ?? new Date();
  const level = levelName(record.level);
  const levelText = level.toUpperCase().padEnd(5);
  const levelCell = options.color ? `${LEVEL_COLORS[level] ?? ""}${levelText}${RESET}` : levelText;
  const msg = typeof record.msg === "string" ? record.msg : "";
  const fields = Object.entries(record)
    .filter(([key, value]) => !COLUMN_FIELDS.has(key) && !(key === "component" && value === service) && value !== undefined)
    .map(([key, value]) => (options.color ? `${DIM}${key}=${RESET}${formatValue(value)}` : `${key}=${formatValue(value)}`));
  const text = options.color && (level === "warn" || level === "error" || level === "fatal") ? `${BOLD}${msg}${RESET}` : msg;
  return [`${prefix(service, time, options)} ${levelCell} ${text}`.trimEnd(), ...fields].join(" ");
}

/** The record in `line` when it is a pino JSON object, else undefined. */
export function parsePinoLine(line: string): LogRecord | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{") || !trimmed.endsWith("}")) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    const record = value as LogRecord;
    return "level" in record && ("msg" in record || "time" in record) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** `value` as it reads best after `key=`: bare when it has no spaces or quotes, JSON otherwise. */
export function formatValue(value: unknown): string {
  if (typeof value === "string") return /^[^\s="'\\]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return String(value);
  if (isSerializedError(value)) return JSON.stringify(`${value.type ?? "Error"}: ${value.message}`);
  return JSON.stringify(value) ?? String(value);
}

function isSerializedError(value: unknown): value is { type?: string; message: string; stack: string } {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.message === "string" && typeof candidate.stack === "string";
}

function levelName(level: unknown): string {
  if (typeof level === "number") return PINO_LEVELS[level] ?? String(level);
  return typeof level === "string" ? level.toLowerCase() : "info";
}

function recordTime(time: unknown): Date | undefined {
  if (typeof time !== "string" && typeof time !== "number") return undefined;
  const date = new Date(time);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** `HH:MM:SS.mmm` in the local time zone. */
export function clockTime(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

function prefix(service: string, time: Date, options: LogFormatOptions): string {
  const name = service.padEnd(options.nameWidth);
  if (!options.color) return `${clockTime(time)} ${name}`;
  return `${DIM}${clockTime(time)}${RESET} ${serviceColor(service)}${name}${RESET}`;
}

/** The same colour for a service on every line and every run. */
function serviceColor(service: string): string {
  const known = SERVICE_COLORS[service];
  if (known) return known;
  let hash = 0;
  for (const char of service) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return OTHER_SERVICE_COLORS[hash % OTHER_SERVICE_COLORS.length] ?? "";
}
