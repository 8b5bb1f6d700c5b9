import type { OpenApiDocument, Operation } from "./document.ts";

type Schema = Record<string, unknown>;

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const code = (text: string) => `<code>${escape(text)}</code>`;

/**
 * The API's reference as one HTML page rendered on the server from the
 * document: no script, and nothing from another origin (one inline style
 * sheet, which the site's Content-Security-Policy allows), so it shows under
 * nginx's CSP and without JavaScript. It links the document as `openapi.json`,
 * beside it.
 *
 * ```ts
 * const html = renderReferencePage(buildApiDocument(app, { version: "0.1.0" }));
 * new Response(html, { headers: { "content-type": "text/html; charset=utf-8" } });
 * ```
 */
export function renderReferencePage(document: OpenApiDocument): string {
  const resolve = (schema: unknown): Schema => {
    const ref = (schema as Schema | undefined)?.$ref;
    if (typeof ref === "string") return (document.components.schemas?.[ref.split("/").at(-1)!] ?? {}) as Schema;
    return (schema ?? {}) as Schema;
  };
  const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation })));
  const tags = document.tags ?? [];
  const sections = tags
    .map((tag) => {
      const mine = operations.filter(({ operation }) => operation.tags?.[0] === tag.name);
      if (mine.length === 0) return "";
      return `<section><h2 id="tag-${escape(tag.name)}">${escape(tag.name)}</h2><p>${escape(tag.description)}</p>${mine.map((entry) => renderOperation(entry, resolve)).join("")}</section>`;
    })
    .join("");
  const index = operations
    .map(({ path, method, operation }) => `<li><a href="#${escape(operation.operationId)}">${escape(method.toUpperCase())} ${escape(path)}</a> ${escape(operation.summary ?? "")}</li>`)
    .join("");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(document.info.title)} reference</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escape(document.info.title)} <small>${escape(document.info.version)}</small></h1>
<p>${escape(document.info.description ?? "")}</p>
<p>The contract itself, OpenAPI ${escape(document.openapi)}: <a href="openapi.json">openapi.json</a>.</p>
<nav><ul>${index}</ul></nav>
</header>
<main>${sections}${renderComponents(document, resolve)}</main>
</body>
</html>
`;
}

function renderOperation({ path, method, operation }: { path: string; method: string; operation: Operation }, resolve: (schema: unknown) => Schema): string {
  const parts = [`<article id="${escape(operation.operationId)}"><h3><span class="method">${escape(method.toUpperCase())}</span> ${code(path)}</h3>`];
  parts.push(`<p><strong>${escape(operation.summary ?? "")}</strong></p>`);
  if (operation.description) parts.push(`<p>${escape(operation.description)}</p>`);
  if (operation.security?.length) parts.push(`<p class="auth">Needs <code>Authorization: Bearer &lt;token&gt;</code>.</p>`);
  if (operation.parameters?.length) {
    const rows = operation.parameters
      .map((parameter) => {
        const schema = (parameter.schema ?? {}) as Schema;
        const about = [typeof parameter.description === "string" ? parameter.description : "", constraints(schema)].filter(Boolean).join("; ");
        return `<tr><td>${code(String(parameter.name))}</td><td>${escape(String(parameter.in))}${parameter.required ? ", required" : ""}</td><td>${escape(typeName(schema))}</td><td>${escape(about)}</td></tr>`;
      })
      .join("");
    parts.push(`<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>notes</th></tr>${rows}</table>`);
  }
  const body = operation.requestBody?.content["application/json"];
  if (body) {
    parts.push(`<h4>Body (application/json)</h4>${renderSchema(resolve(body.schema), resolve)}${renderExamples(resolve(body.schema).examples, undefined)}`);
  }
  parts.push("<h4>Responses</h4>");
  for (const [status, response] of Object.entries(operation.responses)) {
    const media = response.content?.["application/json"];
    const schema = media ? resolve(media.schema) : undefined;
    const named = typeof (media?.schema as Schema | undefined)?.$ref === "string" ? String((media!.schema as Schema).$ref).split("/").at(-1) : undefined;
    parts.push(`<div class="response"><h5><span class="status s${escape(status[0] ?? "")}">${escape(status)}</span> ${escape(response.description)}</h5>`);
    if (schema) parts.push(named ? `<p><a href="#schema-${escape(named)}">${escape(named)}</a></p>` : renderSchema(schema, resolve));
    parts.push(renderExamples(schema?.examples, media?.examples), "</div>");
  }
  parts.push("</article>");
  return parts.join("");
}

/** The named schemas the operations refer to, each once. */
function renderComponents(document: OpenApiDocument, resolve: (schema: unknown) => Schema): string {
  const schemas = Object.entries(document.components.schemas ?? {}) as [string, Schema][];
  if (schemas.length === 0) return "";
  const parts = schemas.map(([name, schema]) => `<article id="schema-${escape(name)}"><h3>${escape(name)}</h3>${typeof schema.description === "string" ? `<p>${escape(schema.description)}</p>` : ""}${renderSchema(schema, resolve)}</article>`);
  return `<section><h2 id="schemas">Schemas</h2>${parts.join("")}</section>`;
}

function renderExamples(schemaExamples: unknown, mediaExamples: Record<string, { value: unknown }> | undefined): string {
  const values = [...(Array.isArray(schemaExamples) ? schemaExamples.map((value) => ["example", value] as const) : []), ...Object.entries(mediaExamples ?? {}).map(([name, example]) => [name, example.value] as const)];
  return values.map(([name, value]) => `<details><summary>Example: ${escape(name)}</summary><pre>${escape(JSON.stringify(value, null, 2))}</pre></details>`).join("");
}

/** A schema as a nested list of its fields, or its type when it has none. */
function renderSchema(schema: Schema, resolve: (schema: unknown) => Schema): string {
  const properties = schema.properties as Record<string, Schema> | undefined;
  const items = schema.items as Schema | undefined;
  if (!properties) {
    if (items?.properties) return `<p>${escape(typeName(schema))} of:</p>${renderSchema(items, resolve)}`;
    return `<p>${escape(typeName(schema))}${constraints(schema) ? ` (${escape(constraints(schema))})` : ""}</p>`;
  }
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const rows = Object.entries(properties).map(([name, raw]) => {
    const property = resolve(raw);
    const about = [typeof property.description === "string" ? property.description : "", constraints(property)].filter(Boolean).join("; ");
    const nested = property.properties ? renderSchema(property, resolve) : (property.items as Schema | undefined)?.properties ? renderSchema(property.items as Schema, resolve) : "";
    return `<li>${code(name)}${required.has(name) ? "" : " <em>optional</em>"}: ${escape(typeName(property))}${about ? ` (${escape(about)})` : ""}${nested}</li>`;
  });
  return `<ul class="fields">${rows.join("")}</ul>`;
}

function typeName(schema: Schema): string {
  if (typeof schema.$ref === "string") return schema.$ref.split("/").at(-1)!;
  if ("const" in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).map(typeName).join(" | ");
  if (schema.type === "array") return `${typeName((schema.items ?? {}) as Schema)}[]`;
  if (Array.isArray(schema.type)) return schema.type.join(" | ");
  return typeof schema.type === "string" ? schema.type : "any";
}

const CONSTRAINTS: [string, string][] = [
  ["minimum", "≥"],
  ["exclusiveMinimum", ">"],
  ["maximum", "≤"],
  ["exclusiveMaximum", "<"],
  ["minLength", "length ≥"],
  ["maxLength", "length ≤"],
  ["minItems", "items ≥"],
  ["maxItems", "items ≤"],
  ["pattern", "matches"],
];

function constraints(schema: Schema): string {
  return CONSTRAINTS.filter(([key]) => schema[key] !== undefined)
    .map(([key, word]) => `${word} ${String(schema[key])}`)
    .join(", ");
}

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem 1.5rem 4rem; color: #1d2330; background: #fbfbfd; }
h1 small { font-weight: normal; color: #667; font-size: 60%; }
h2 { border-bottom: 2px solid #d8dbe4; margin-top: 2.5rem; }
article { border: 1px solid #d8dbe4; border-radius: 6px; padding: 0.25rem 1rem 0.75rem; margin: 1rem 0; background: #fff; }
h3 { margin: 0.6rem 0 0.2rem; }
h4 { margin: 0.8rem 0 0.2rem; }
h5 { margin: 0.5rem 0 0.2rem; font-size: 100%; font-weight: 600; }
.method { display: inline-block; min-width: 3.5rem; font-size: 85%; color: #fff; background: #3b5bdb; border-radius: 4px; padding: 0 0.4rem; text-align: center; }
.status { display: inline-block; min-width: 2.5rem; border-radius: 4px; padding: 0 0.3rem; background: #e9ecef; }
.status.s2 { background: #d3f9d8; } .status.s4 { background: #fff3bf; } .status.s5 { background: #ffe3e3; }
.auth { color: #7a4b00; }
code, pre { font-family: ui-monospace, monospace; font-size: 90%; }
pre { background: #f4f5f9; padding: 0.5rem; overflow-x: auto; }
table { border-collapse: collapse; } td, th { border: 1px solid #d8dbe4; padding: 0.2rem 0.5rem; text-align: left; }
ul.fields { margin: 0.2rem 0; }
nav ul { columns: 2; font-size: 90%; }
`;
