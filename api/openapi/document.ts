import { toOpenAPISchema, unwrapSchema } from "@elysiajs/openapi/openapi";
import { Type as t } from "@sinclair/typebox";
import type { AnyElysia } from "elysia";
import { type ErrorCode, ErrorBody } from "../../common/contracts/error.ts";
import { errorCodesFor, errorExample } from "./error-examples.ts";
import { BEARER_SCHEME, ERROR_CODES_KEY } from "./operation.ts";

/**
 * The OpenAPI version the document declares.
 *
 * ```ts
 * buildApiDocument(app).openapi === OPENAPI_VERSION; // true
 * ```
 */
export const OPENAPI_VERSION = "3.1.1";

/**
 * What an OpenAPI 3.1 document must have at the least, as `GET /api/openapi.json`
 * declares (and Elysia checks) its answer.
 *
 * ```ts
 * Value.Check(OpenApiShape, buildApiDocument(app, { version: "0.1.0" })); // true
 * ```
 */
export const OpenApiShape = t.Object(
  {
    openapi: t.String({ pattern: "^3\\.1\\.[0-9]+$" }),
    info: t.Object({ title: t.String(), version: t.String(), description: t.Optional(t.String()) }),
    tags: t.Optional(t.Array(t.Object({ name: t.String(), description: t.String() }))),
    paths: t.Record(t.String({ pattern: "^/" }), t.Record(t.String(), t.Object({ operationId: t.String(), responses: t.Record(t.String({ pattern: "^[1-5][0-9]{2}$" }), t.Object({ description: t.String() })) }))),
    components: t.Record(t.String(), t.Record(t.String(), t.Unknown())),
  },
  {
    description: "An OpenAPI 3.1 document",
    examples: [
      {
        openapi: OPENAPI_VERSION,
        info: { title: "tap-trading API", version: "0.1.0" },
        paths: { "/api/healthz": { get: { operationId: "getApiHealthz", summary: "Liveness", responses: { "200": { description: "OK" } } } } },
        components: { schemas: {} },
      },
    ],
  },
);

/**
 * An OpenAPI document, as plain JSON.
 *
 * ```ts
 * const document: OpenApiDocument = { openapi: "3.1.1", info: { title: "tap-trading API", version: "0.1.0" }, paths: {}, components: {} };
 * ```
 */
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description?: string };
  tags?: { name: string; description: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
}

/**
 * One operation of the document (the fields the API fills; OpenAPI allows more).
 *
 * ```ts
 * const operation: Operation = { operationId: "getApiMe", summary: "My balance", tags: ["players"], responses: {} };
 * ```
 */
export interface Operation {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: Record<string, unknown>[];
  requestBody?: { description?: string; required: boolean; content: Record<string, { schema: unknown; examples?: Record<string, { value: unknown }> }> };
  responses: Record<string, Response>;
  [ERROR_CODES_KEY]?: Partial<Record<number, ErrorCode[]>>;
}

/**
 * One response of an operation.
 *
 * ```ts
 * const answer: Response = { description: "Not found", content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } } };
 * ```
 */
export interface Response {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema: unknown; examples?: Record<string, { summary?: string; value: unknown }> }>;
}

/** The tags, in the order the reference page shows them. */
const TAGS = [
  { name: "sessions", description: "Guest players, their bearer tokens and recovery codes." },
  { name: "players", description: "The token's player: balance, open exposure, nickname." },
  { name: "bets", description: "Placing bets on grid cells and reading them back." },
  { name: "market", description: "The price, its history, the priced grid and the day's leaderboard." },
  { name: "health", description: "Liveness and readiness, for load balancers and operators." },
  { name: "contract", description: "This document and its reference page." },
];

const STATUS_TEXT: Record<string, string> = {
  "200": "OK",
  "201": "Created",
  "202": "Accepted: the bet is stored and the stake debited",
  "400": "The request does not match the contract (the body, query or path), or its body is not JSON",
  "401": "No, a bad or an expired bearer token (or recovery code)",
  "404": "Not found",
  "409": "Refused on its merits: see the code",
  "413": "The body is larger than 16 KiB",
  "415": "The body is not application/json",
  "429": "Too many requests: wait for Retry-After seconds",
  "500": "An unexpected failure (logged with the request id)",
  "503": "Not available now (no fresh price, a store unreachable): try again after Retry-After seconds",
};

const ERROR_BODY_REF = { $ref: "#/components/schemas/ErrorBody" };
const HEADERS = {
  "X-Request-ID": { description: "The request's id: the caller's when it sent a plain one (1–128 of A-Z a-z 0-9 . _ : -), else a new one; also in an error's `request_id`.", schema: { type: "string" } },
  "Retry-After": { description: "Seconds to wait before trying again.", schema: { type: "string", pattern: "^[0-9]+$" } },
  "WWW-Authenticate": { description: "`Bearer realm=\"tap-trading\"`", schema: { type: "string" } },
};
const headerRef = (name: keyof typeof HEADERS) => ({ $ref: `#/components/headers/${name}` });

/** The route as Elysia keeps it: what the document needs of it. */
interface RouteEntry {
  method: string;
  path: string;
  hooks: { body?: unknown; query?: unknown; params?: unknown };
}

/** JSON keeps what a client sees of a schema (TypeBox's symbol keys go). */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * The API's OpenAPI 3.1 document, generated by @elysiajs/openapi's
 * `toOpenAPISchema` from the schemas the routes validate with (so it cannot
 * drift from the validation), then completed with what the routes cannot say
 * themselves: the error contract as one component, the errors the shared HTTP
 * layer answers on every route (400 `bad_json`, 413 and 415 for a body, 401
 * behind the bearer token, 500), an example per error code, the request bodies
 * as JSON only (the API's parser refuses anything else), the bearer security
 * scheme and the tags. `undescribed` words the routes that carry no
 * description of their own, by `"METHOD /path"`.
 *
 * ```ts
 * const document = buildApiDocument(app, { version: "0.1.0" });
 * document.paths["/api/bets"]!.post!.responses["409"]; // { description, content: { "application/json": { schema, examples: { cell_locked, … } } } }
 * ```
 */
export function buildApiDocument(app: AnyElysia, { version, undescribed = {} }: { version: string; undescribed?: Record<string, Partial<Operation>> }): OpenApiDocument {
  const generated = toOpenAPISchema(app, { staticFile: false }, undefined, undefined, OPENAPI_VERSION) as unknown as { paths: OpenApiDocument["paths"] };
  const paths = plain(generated.paths);
  const errorBody = plain(unwrapSchema(ErrorBody, undefined, "output", OPENAPI_VERSION)) as Record<string, unknown>;
  // A plugin instance reads the whole app's routes, as toOpenAPISchema does.
  const routes = (app as unknown as { getGlobalRoutes(): RouteEntry[] }).getGlobalRoutes();
  for (const route of routes) {
    const operation = paths[route.path.replace(/:([^/]+)/g, "{$1}")]?.[route.method.toLowerCase()];
    if (!operation) continue;
    // A route mounted from outside api/ (common/ cannot import this module) is described here, unless it describes itself.
    const words = undescribed[`${route.method} ${route.path}`];
    if (words && !operation.summary) Object.assign(operation, words);
    completeOperation(operation, route, errorBody);
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: "tap-trading API",
      version,
      description:
        "The HTTP API of tap-trading, a real-time BTC tap-trading game. Bodies are JSON (at most 16 KiB). Every 4xx and 5xx answer is the error contract (`ErrorBody`); its `request_id` is also the `X-Request-ID` response header. A player is a guest: `POST /api/session` returns a bearer token for the routes that name the bearer scheme. The websocket protocol (`/ws`) is described in docs/ws-messages.md.",
    },
    tags: TAGS,
    paths,
    components: {
      schemas: { ErrorBody: { ...errorBody, description: "The one error contract: every 4xx and 5xx answer of the API." } },
      headers: HEADERS,
      securitySchemes: {
        [BEARER_SCHEME]: { type: "http", scheme: "bearer", description: "The `token` of `POST /api/session` (or `POST /api/session/recover`), valid until its `expires_at`." },
      },
    },
  };
}

function completeOperation(operation: Operation, route: RouteEntry, errorBody: unknown) {
  const method = route.method.toUpperCase();
  const carriesBody = method === "POST" || method === "PUT" || method === "PATCH";
  const statuses = new Set(Object.keys(operation.responses ?? {}));
  // The shared HTTP layer (api/http/foundation.ts, json-body.ts, api/sessions/auth.ts) answers these on any such route.
  statuses.add("500");
  if (carriesBody) for (const status of ["400", "413", "415"]) statuses.add(status);
  // A schema's refusal, or the route's own check of the query parameters it documents (GET /api/prices).
  const validates = Boolean(route.hooks.body || route.hooks.query || route.hooks.params) || (operation.parameters ?? []).some((parameter) => parameter.in === "query");
  if (validates) statuses.add("400");
  const secured = operation.security?.some((requirement) => BEARER_SCHEME in requirement) ?? false;
  if (secured) statuses.add("401");

  if (route.hooks.body) {
    const schema = plain(unwrapSchema(route.hooks.body as never, undefined, "input", OPENAPI_VERSION));
    operation.requestBody = { ...(operation.requestBody?.description ? { description: operation.requestBody.description } : {}), required: true, content: { "application/json": { schema } } };
  } else if (operation.requestBody) {
    delete operation.requestBody;
  }

  const codes = operation[ERROR_CODES_KEY];
  delete operation[ERROR_CODES_KEY];
  const responses: Record<string, Response> = {};
  for (const status of [...statuses].sort()) {
    const generated = operation.responses?.[status];
    const error = Number(status) >= 400;
    const content = generated?.content?.["application/json"];
    // An error schema identical to the contract is named rather than repeated.
    const schema = !content || (error && Bun.deepEquals(content.schema, errorBody)) ? (error ? ERROR_BODY_REF : undefined) : content.schema;
    const headers: Record<string, unknown> = { "X-Request-ID": headerRef("X-Request-ID") };
    if (status === "401" && secured) headers["WWW-Authenticate"] = headerRef("WWW-Authenticate");
    if ((status === "429" || status === "503") && schema === ERROR_BODY_REF) headers["Retry-After"] = headerRef("Retry-After");
    // The error contract gets one example per code; any other schema carries its own examples.
    const examples = schema === ERROR_BODY_REF ? errorExamples(Number(status), codes, { carriesBody, validates }) : undefined;
    responses[status] = {
      description: STATUS_TEXT[status] ?? generated?.description ?? `Status ${status}`,
      headers,
      ...(schema !== undefined
        ? { content: { "application/json": { schema, ...(examples ? { examples } : {}) } } }
        : generated?.content
          ? { content: generated.content }
          : {}),
    };
  }
  operation.responses = responses;
}

function errorExamples(status: number, named: Partial<Record<number, ErrorCode[]>> | undefined, { carriesBody, validates }: { carriesBody: boolean; validates: boolean }) {
  let codes = errorCodesFor(status, named);
  if (status === 400) {
    // A 400 is the schema's refusal where there is one, and a body that is not JSON wherever a body is read.
    codes = named?.[400] ?? (validates ? ["validation_failed"] : []);
    if (carriesBody && !codes.includes("bad_json")) codes = [...codes, "bad_json"];
  }
  return Object.fromEntries(codes.map((code) => [code, { summary: code, value: errorExample(code) }]));
}
