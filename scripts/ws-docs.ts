/**
 * Writes the websocket protocol's documents from its contract,
 * common/contracts/ws.ts (and the messages it takes from price.ts, grid.ts and
 * bet-event.ts): docs/ws-messages.md for people and docs/asyncapi.json
 * (AsyncAPI 3.0) for tools. The schemas and examples are the contract's own
 * values; the words are its doc comments. scripts/ws-docs.test.ts checks that
 * the committed documents are what this writes.
 *
 *   node_modules/.bin/bun scripts/ws-docs.ts           # writes both
 *   node_modules/.bin/bun scripts/ws-docs.ts --check   # exit 1 when either is out of date
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TSchema } from "@sinclair/typebox";
import ts from "typescript";
import { version } from "../package.json";
import * as betEvent from "../common/contracts/bet-event.ts";
import * as ws from "../common/contracts/ws.ts";

const ROOT = join(import.meta.dir, "..");
const CONTRACT_FILES = ["common/contracts/ws.ts", "common/contracts/price.ts", "common/contracts/grid.ts", "common/contracts/bet-event.ts"];

/**
 * Where the generated documents go, from the repository's root.
 *
 * ```ts
 * readFileSync(join(root, WS_DOC_PATHS.markdown), "utf8");
 * ```
 */
export const WS_DOC_PATHS = { markdown: "docs/ws-messages.md", asyncapi: "docs/asyncapi.json" } as const;

type Schema = Record<string, unknown>;

/** One message of the protocol: its name in the contract, its schema, what its doc comment says. */
interface Message {
  name: string;
  type: string;
  schema: TSchema;
  description: string;
}

/** The doc comments of the contract files: each exported declaration's last one, and the literals' and properties' own. */
function readComments() {
  const declarations = new Map<string, string>();
  const members = new Map<string, string>();
  let overview = "";
  for (const file of CONTRACT_FILES) {
    const text = readFileSync(join(ROOT, file), "utf8");
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const commentsBefore = (node: ts.Node) =>
      (ts.getLeadingCommentRanges(text, node.getFullStart()) ?? []).map((range) => text.slice(range.pos, range.end)).filter((comment) => comment.startsWith("/**"));
    for (const statement of source.statements) {
      if (!ts.isVariableStatement(statement)) continue;
      const comments = commentsBefore(statement);
      const declaration = statement.declarationList.declarations[0];
      if (!declaration || !ts.isIdentifier(declaration.name)) continue;
      const name = declaration.name.text;
      if (comments.length > 0) declarations.set(name, prose(comments.at(-1)!));
      // ws.ts opens with the protocol's overview, a comment of its own before the first declaration.
      if (file.endsWith("ws.ts") && !overview && comments.length > 1) overview = prose(comments[0]!);
      // The comments inside: each literal of a union (`WsErrorCode`) and each property of an object (`WsCloseCode`).
      const visit = (node: ts.Node) => {
        const [comment] = commentsBefore(node).slice(-1);
        if (comment && ts.isCallExpression(node) && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) members.set(`${name}.${node.arguments[0].text}`, prose(comment));
        if (comment && ts.isPropertyAssignment(node) && ts.isIdentifier(node.name)) members.set(`${name}.${node.name.text}`, prose(comment));
        ts.forEachChild(node, visit);
      };
      if (declaration.initializer) ts.forEachChild(declaration.initializer, visit);
    }
  }
  return { declarations, members, overview };
}

/** A doc comment's words: no comment marks, no code examples, lines joined into paragraphs. */
function prose(comment: string): string {
  const lines = comment
    .replace(/^\/\*\*|\*\/$/g, "")
    .split("\n")
    .map((line) => line.replace(/^\s*\* ?/, "").trimEnd());
  const kept: string[] = [];
  let fenced = false;
  for (const line of lines) {
    if (line.trim().startsWith("```")) fenced = !fenced;
    else if (!fenced) kept.push(line);
  }
  return kept
    .join("\n")
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.replace(/\s*\n\s*/g, " ").trim())
    .filter(Boolean)
    .join("\n\n");
}

/** The union's members with the names they are exported under. */
function messagesOf(union: TSchema, comments: Map<string, string>): Message[] {
  const named = new Map<unknown, string>();
  for (const [name, value] of [...Object.entries(ws), ...Object.entries(betEvent)]) if (!named.has(value)) named.set(value, name);
  return ((union.anyOf ?? []) as TSchema[]).map((schema) => {
    const name = named.get(schema);
    if (!name) throw new Error("a member of the union is not an exported schema");
    const type = (schema.properties as Record<string, Schema>).type?.const;
    if (typeof type !== "string") throw new Error(`${name} has no literal type`);
    return { name, type, schema, description: comments.get(name) ?? "" };
  });
}

/** A schema as clients see it: JSON drops TypeBox's symbol keys; the examples are shown apart. */
function payload(schema: TSchema): Schema {
  const { examples: _examples, ...rest } = JSON.parse(JSON.stringify(schema)) as Schema;
  return rest;
}

function typeName(schema: Schema): string {
  if ("const" in schema) return `\`${JSON.stringify(schema.const)}\``;
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).map(typeName).join(" \\| ");
  if (schema.type === "array") return `${typeName((schema.items ?? {}) as Schema)}[]`;
  return typeof schema.type === "string" ? schema.type : "any";
}

const NOTES: [string, string][] = [
  ["minimum", "≥"],
  ["exclusiveMinimum", ">"],
  ["maximum", "≤"],
  ["minLength", "length ≥"],
  ["maxLength", "length ≤"],
  ["minItems", "items ≥"],
  ["maxItems", "items ≤"],
];

/** One table row per field, nested objects and arrays of objects as dotted paths. */
function fieldRows(schema: Schema, prefix = "", required = true): string[] {
  const rows: string[] = [];
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const needed = new Set((schema.required as string[] | undefined) ?? []);
  for (const [name, property] of Object.entries(properties)) {
    const path = `${prefix}${name}`;
    const notes = [typeof property.description === "string" ? property.description : "", ...NOTES.filter(([key]) => property[key] !== undefined).map(([key, word]) => `${word} ${String(property[key])}`)]
      .filter(Boolean)
      .join("; ");
    rows.push(`| \`${path}\` | ${typeName(property)} | ${required && needed.has(name) ? "yes" : "no"} | ${notes} |`);
    const items = property.items as Schema | undefined;
    if (property.properties) rows.push(...fieldRows(property, `${path}.`, required && needed.has(name)));
    else if (items?.properties) rows.push(...fieldRows(items, `${path}[].`, required && needed.has(name)));
  }
  return rows;
}

function messageSection(message: Message): string {
  const examples = (message.schema.examples as unknown[] | undefined) ?? [];
  return [
    `### \`${message.type}\` (${message.name})`,
    "",
    message.description,
    "",
    "| field | type | required | notes |",
    "| --- | --- | --- | --- |",
    ...fieldRows(payload(message.schema)),
    "",
    ...examples.flatMap((example) => ["```json", JSON.stringify(example), "```", ""]),
  ].join("\n");
}

/**
 * The two documents as text: the Markdown page and the AsyncAPI 3.0 JSON.
 *
 * ```ts
 * const { markdown, asyncapi } = wsDocs();
 * JSON.parse(asyncapi).asyncapi; // "3.0.0"
 * ```
 */
export function wsDocs(): { markdown: string; asyncapi: string } {
  const { declarations, members, overview } = readComments();
  const commands = messagesOf(ws.ClientCommand, declarations);
  const messages = messagesOf(ws.ServerMessage, declarations);
  const errorCodes = ((ws.WsErrorCode.anyOf ?? []) as TSchema[]).map((literal) => String(literal.const));
  const closeCodes = Object.entries(ws.WsCloseCode).map(([name, code]) => ({ name, code, meaning: members.get(`WsCloseCode.${name}`) ?? "" }));
  const topics = ((ws.WsTopic.anyOf ?? []) as TSchema[]).map((literal) => `\`${String(literal.const)}\``).join(", ");

  const markdown = [
    "# The websocket protocol (`/ws`)",
    "",
    "<!-- Generated by scripts/ws-docs.ts from common/contracts/ws.ts: do not edit; run `node_modules/.bin/bun scripts/ws-docs.ts`. -->",
    "",
    overview,
    "",
    `Connect to \`/ws\` (through nginx; ws also listens on its own port). A request there that is not a websocket upgrade is answered 426 \`upgrade_required\`, and an upgrade past the connection limit 503 \`unavailable\`, both in the API's error contract (docs/api.md). Every message is one JSON text frame; a client message may be at most ${ws.WS_MAX_MESSAGE_BYTES} bytes. Topics: ${topics}. The server also sends websocket ping frames; a browser's automatic pong answers them (ws counts what a client has read by them, docs/architecture.md).`,
    "",
    "The same description for tools: [asyncapi.json](asyncapi.json) (AsyncAPI 3.0).",
    "",
    "## Client → server",
    "",
    ...commands.map(messageSection),
    "## Server → client",
    "",
    ...messages.map(messageSection),
    "## Error codes",
    "",
    "The `code` of an `error` message.",
    "",
    "| code | meaning |",
    "| --- | --- |",
    ...errorCodes.map((code) => `| \`${code}\` | ${members.get(`WsErrorCode.${code}`) ?? ""} |`),
    "",
    "## Close codes",
    "",
    "The codes the server closes a connection with (RFC 6455 §7.4.1); where an `error` message comes first, the table above says so.",
    "",
    "| code | name | meaning |",
    "| --- | --- | --- |",
    ...closeCodes.map(({ name, code, meaning }) => `| ${code} | \`${name}\` | ${meaning} |`),
    "",
  ].join("\n");

  const componentMessages = Object.fromEntries(
    [...commands, ...messages].map((message) => [
      message.name,
      {
        name: message.type,
        title: message.name,
        summary: message.description.split("\n\n")[0],
        contentType: "application/json",
        payload: payload(message.schema),
        examples: ((message.schema.examples as unknown[] | undefined) ?? []).map((example) => ({ payload: example })),
      },
    ]),
  );
  const asyncapi = {
    asyncapi: "3.0.0",
    info: { title: "tap-trading websocket", version, description: overview },
    defaultContentType: "application/json",
    servers: {
      site: {
        host: "{host}",
        pathname: "/ws",
        protocol: "wss",
        description: "Through nginx, beside the HTTP API.",
        variables: { host: { description: "The site's host name.", default: "localhost" } },
      },
    },
    channels: {
      ws: {
        address: "/ws",
        messages: Object.fromEntries(Object.keys(componentMessages).map((name) => [name, { $ref: `#/components/messages/${name}` }])),
      },
    },
    operations: {
      receiveCommand: {
        action: "receive",
        summary: "What a client may send.",
        channel: { $ref: "#/channels/ws" },
        messages: commands.map((message) => ({ $ref: `#/channels/ws/messages/${message.name}` })),
      },
      sendMessage: {
        action: "send",
        summary: "What the server sends.",
        channel: { $ref: "#/channels/ws" },
        messages: messages.map((message) => ({ $ref: `#/channels/ws/messages/${message.name}` })),
      },
    },
    components: { messages: componentMessages },
    "x-close-codes": Object.fromEntries(closeCodes.map(({ name, code, meaning }) => [String(code), { name, description: meaning }])),
    "x-error-codes": Object.fromEntries(errorCodes.map((code) => [code, members.get(`WsErrorCode.${code}`) ?? ""])),
  };
  return { markdown, asyncapi: `${JSON.stringify(asyncapi, null, 2)}\n` };
}

if (import.meta.main) {
  const docs = wsDocs();
  const outputs = [
    [WS_DOC_PATHS.markdown, docs.markdown],
    [WS_DOC_PATHS.asyncapi, docs.asyncapi],
  ] as const;
  if (process.argv.includes("--check")) {
    const stale = outputs.filter(([path, text]) => {
      try {
        return readFileSync(join(ROOT, path), "utf8") !== text;
      } catch {
        return true;
      }
    });
    for (const [path] of stale) console.error(`${path} is out of date: run node_modules/.bin/bun scripts/ws-docs.ts`);
    process.exit(stale.length > 0 ? 1 : 0);
  }
  for (const [path, text] of outputs) {
    writeFileSync(join(ROOT, path), text);
    console.log(`wrote ${path}`);
  }
}
