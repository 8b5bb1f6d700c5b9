import type { TObject } from "@sinclair/typebox";
import type { DocumentDecoration } from "elysia";
import type { ErrorCode } from "../../common/contracts/error.ts";

/**
 * The security scheme's name in the document: `Authorization: Bearer <token>`
 * with the token of `POST /api/session` (api/sessions/auth.ts checks it).
 *
 * ```ts
 * document.components.securitySchemes[BEARER_SCHEME]; // { type: "http", scheme: "bearer", … }
 * ```
 */
export const BEARER_SCHEME = "bearer";

/**
 * The vendor extension a route's `detail` lists its error codes by status in;
 * the document turns it into one example per code and drops it.
 *
 * ```ts
 * describeRoute({ summary: "Set my nickname", tags: ["players"], errors: { 409: ["nickname_taken"] } })[ERROR_CODES_KEY];
 * // { 409: ["nickname_taken"] }
 * ```
 */
export const ERROR_CODES_KEY = "x-error-codes";

/**
 * What a route says about itself in the API's document, beside the schemas it
 * validates with (those give the bodies; this gives the words).
 *
 * ```ts
 * const route: RouteDescription = { summary: "The latest price", tags: ["prices"], errors: { 503: ["unavailable"] } };
 * ```
 */
export interface RouteDescription {
  summary: string;
  description?: string;
  tags: string[];
  /** Behind `bearerAuth`: the document names the bearer scheme, and 401 is answered without a token. */
  bearer?: boolean;
  /**
   * The codes each error status of this route can carry, when they are not the
   * status's usual one (400 `validation_failed`, 401 `unauthorized`, 404
   * `not_found`, 413, 415, 429 `rate_limited`, 500 `internal`, 503 `unavailable`).
   */
  errors?: Partial<Record<number, ErrorCode[]>>;
  /** Parameters the route reads itself rather than through a schema (`GET /api/prices`). */
  parameters?: Record<string, unknown>[];
}

/**
 * A route's Elysia `detail`: the operation's summary, description, tags and
 * security, and its error codes for the document to make examples of. Elysia
 * does nothing with `detail` at run time.
 *
 * ```ts
 * app.get("/api/me", handler, { response: { 200: Me, 401: ErrorBody }, detail: describeRoute({ summary: "My balance", tags: ["players"], bearer: true }) });
 * ```
 */
export function describeRoute({ summary, description, tags, bearer = false, errors, parameters }: RouteDescription): DocumentDecoration {
  const detail: DocumentDecoration & { [ERROR_CODES_KEY]?: RouteDescription["errors"] } = { summary, tags };
  if (description !== undefined) detail.description = description;
  if (bearer) detail.security = [{ [BEARER_SCHEME]: [] }];
  if (parameters) detail.parameters = parameters as unknown as NonNullable<DocumentDecoration["parameters"]>;
  if (errors) detail[ERROR_CODES_KEY] = errors;
  return detail;
}

/**
 * OpenAPI query parameters for an object schema whose properties a route reads
 * itself (so its schema is not Elysia's `query`, which would validate it
 * differently), one per property, required as the schema says.
 *
 * ```ts
 * queryParameters(PriceHistoryQuery);
 * // [{ name: "from", in: "query", required: false, schema: { type: "integer", minimum: 0, … } }, …]
 * ```
 */
export function queryParameters(schema: TObject): Record<string, unknown>[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, property]) => {
    // JSON drops TypeBox's symbol keys (Kind, Optional): what is left is the JSON Schema.
    const plain = JSON.parse(JSON.stringify(property)) as Record<string, unknown>;
    const { description, ...rest } = plain;
    return { name, in: "query", required: required.has(name), ...(typeof description === "string" ? { description } : {}), schema: rest };
  });
}
