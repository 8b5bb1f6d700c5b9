import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { ClientCommand, ServerMessage, WsCloseCode } from "../common/contracts/ws.ts";
import { WS_DOC_PATHS, wsDocs } from "./ws-docs.ts";

const ROOT = join(import.meta.dir, "..");
const docs = wsDocs();

test("the committed websocket documents are what scripts/ws-docs.ts writes from the contract", () => {
  // On a failure: node_modules/.bin/bun scripts/ws-docs.ts, and commit the result.
  expect(readFileSync(join(ROOT, WS_DOC_PATHS.markdown), "utf8")).toBe(docs.markdown);
  expect(readFileSync(join(ROOT, WS_DOC_PATHS.asyncapi), "utf8")).toBe(docs.asyncapi);
});

test("every command and server message is documented with examples that validate against its schema", () => {
  const asyncapi = JSON.parse(docs.asyncapi) as { components: { messages: Record<string, { name: string; examples: { payload: unknown }[] }> } };
  for (const schema of [...(ClientCommand.anyOf as TSchema[]), ...(ServerMessage.anyOf as TSchema[])]) {
    const type = String((schema.properties as Record<string, TSchema>).type!.const);
    expect(docs.markdown).toContain(`### \`${type}\``);
    const documented = Object.values(asyncapi.components.messages).find((message) => message.name === type);
    expect(documented, `${type} in asyncapi.json`).toBeDefined();
    expect(documented!.examples.length, `${type} has an example`).toBeGreaterThan(0);
    for (const { payload } of documented!.examples) {
      expect([...Value.Errors(schema, payload)].map((error) => `${error.path} ${error.message}`), `${type} example`).toEqual([]);
      expect(docs.markdown).toContain(JSON.stringify(payload));
    }
  }
});

test("every close code ws closes a connection with is the contract's, and is in the documents", () => {
  const codes = new Set<number>(Object.values(WsCloseCode));
  const sources = readdirSync(join(ROOT, "ws")).filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && !file.startsWith("_"));
  let closes = 0;
  for (const file of sources) {
    const text = readFileSync(join(ROOT, "ws", file), "utf8");
    for (const match of text.matchAll(/\.close\(\s*(?:WsCloseCode\.(\w+)|(\d+))/g)) {
      // A doc comment's example may close with a bare number too: it must be one of the contract's.
      const code = match[1] === undefined ? Number(match[2]) : (WsCloseCode as Record<string, number>)[match[1]];
      expect(code, `${file}: ${match[0]}`).toBeDefined();
      expect(codes.has(code!), `${file}: ${match[0]}`).toBe(true);
      closes++;
    }
  }
  expect(closes).toBeGreaterThan(3);
  const asyncapi = JSON.parse(docs.asyncapi) as { "x-close-codes": Record<string, unknown> };
  for (const [name, code] of Object.entries(WsCloseCode)) {
    expect(docs.markdown).toContain(`| ${code} | \`${name}\` |`);
    expect(asyncapi["x-close-codes"][String(code)]).toBeDefined();
  }
});

test("the AsyncAPI document is 3.0 in shape and every $ref in it resolves", () => {
  const asyncapi = JSON.parse(docs.asyncapi) as Record<string, unknown>;
  expect(asyncapi.asyncapi).toBe("3.0.0");
  for (const key of ["info", "channels", "operations", "components"]) expect(asyncapi[key]).toBeDefined();
  const refs = docs.asyncapi.match(/"\$ref": "[^"]+"/g) ?? [];
  expect(refs.length).toBeGreaterThan(0);
  for (const ref of refs) {
    const pointer = ref.slice('"$ref": "#/'.length, -1).split("/");
    const target = pointer.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], asyncapi);
    expect(target, ref).toBeDefined();
  }
});
