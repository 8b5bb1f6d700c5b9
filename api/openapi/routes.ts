import { Elysia } from "elysia";
import { version } from "../../package.json";
import { buildApiDocument, type OpenApiDocument, OpenApiShape } from "./document.ts";
import { describeRoute } from "./operation.ts";
import { renderReferencePage } from "./reference-page.ts";

/** Routes mounted from common/, which cannot use describeRoute. */
const UNDESCRIBED = {
  "GET /metrics": {
    summary: "Prometheus metrics",
    description: "The API's metrics in the Prometheus text format, for the scrape on the API's own port; nginx does not serve it.",
    tags: ["health"],
    responses: { 200: { description: "OK", content: { "text/plain": { schema: { type: "string" } } } } },
  },
};

/**
 * `GET /api/openapi.json` (the API's OpenAPI 3.1 document, generated from the
 * routes' own schemas) and `GET /api/docs` (its reference page, self-contained).
 * Both are built on the first request, once every route is mounted, and kept
 * while the routes stay the same.
 *
 * ```ts
 * new Elysia().use(healthRoutes({ db, redis })).use(openApiRoutes());
 * ```
 */
export function openApiRoutes() {
  let built: { routes: number; document: OpenApiDocument; page: string } | undefined;
  const plugin = new Elysia({ name: "openapi" });
  const current = () => {
    const routes = (plugin as unknown as { getGlobalRoutes(): unknown[] }).getGlobalRoutes().length;
    if (built?.routes !== routes) {
      const document = buildApiDocument(plugin, { version, undescribed: UNDESCRIBED });
      built = { routes, document, page: renderReferencePage(document) };
    }
    return built;
  };
  return plugin
    .get("/api/openapi.json", () => current().document, {
      response: { 200: OpenApiShape },
      detail: describeRoute({ summary: "This document", description: "The API's OpenAPI 3.1 document, generated from the schemas the routes validate with.", tags: ["contract"] }),
    })
    .get(
      "/api/docs",
      () => new Response(current().page, { headers: { "content-type": "text/html; charset=utf-8" } }),
      {
        detail: {
          ...describeRoute({ summary: "The reference page", description: "This document as one HTML page: no script, nothing from another origin.", tags: ["contract"] }),
          responses: { 200: { description: "OK", content: { "text/html": { schema: { type: "string" } } } } },
        },
      },
    );
}
