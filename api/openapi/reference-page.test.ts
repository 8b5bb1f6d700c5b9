import { expect, test } from "bun:test";
import type { OpenApiDocument } from "./document.ts";
import { renderReferencePage } from "./reference-page.ts";

const document: OpenApiDocument = {
  openapi: "3.1.1",
  info: { title: "tap-trading API", version: "0.1.0", description: "Bodies are <JSON> & small" },
  tags: [{ name: "players", description: "The token's player" }],
  paths: {
    "/api/players/me/nickname": {
      put: {
        operationId: "putApiPlayersMeNickname",
        summary: `Set my "nickname" <script>alert(1)</script>`,
        tags: ["players"],
        security: [{ bearer: [] }],
        requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["nickname"], properties: { nickname: { type: "string", minLength: 3 } }, examples: [{ nickname: "<b>hal</b>" }] } } } },
        responses: {
          "200": { description: "OK" },
          "409": { description: "Refused", content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" }, examples: { nickname_taken: { value: { error: { code: "nickname_taken" } } } } } } },
        },
      },
    },
  },
  components: { schemas: { ErrorBody: { type: "object", properties: { error: { type: "object" } } } } },
};

test("everything the document says is escaped: no markup of its own reaches the page", () => {
  const html = renderReferencePage(document);
  expect(html).not.toContain("<script>");
  expect(html).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
  expect(html).toContain("Bodies are &#60;JSON&#62; &#38; small");
  expect(html).toContain("&#60;b&#62;hal&#60;/b&#62;");
});

test("an operation shows its method, path, token, body fields, examples and responses, and a named schema links to its section", () => {
  const html = renderReferencePage(document);
  expect(html).toContain('id="putApiPlayersMeNickname"');
  expect(html).toContain('<span class="method">PUT</span> <code>/api/players/me/nickname</code>');
  expect(html).toContain("Authorization: Bearer &lt;token&gt;");
  expect(html).toContain("<code>nickname</code>: string (length ≥ 3)");
  expect(html).toContain("Example: nickname_taken");
  expect(html).toContain('<a href="#schema-ErrorBody">ErrorBody</a>');
  expect(html).toContain('id="schema-ErrorBody"');
  expect(html).toContain('<a href="openapi.json">openapi.json</a>');
});
