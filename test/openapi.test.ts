/**
 * The API's published contract: GET /api/openapi.json against the app that
 * serves it (built in process, every route enumerated from Elysia's own
 * table), each documented example against the schema the route validates
 * with, each error a route really answers against what the document says it
 * answers, and GET /api/docs as a page with nothing from another origin, also
 * through the production nginx site in front of a real API process.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type Redis from "ioredis";
import { createApp } from "../api/app.ts";
import { createBetStore } from "../api/bets/bet-store.ts";
import { createExposure } from "../api/bets/exposure.ts";
import { createGroupCommitter } from "../api/bets/group-commit.ts";
import { createBetPlacement } from "../api/bets/placement.ts";
import { MIN_MULTIPLIER } from "../api/grid/build-grid.ts";
import { createGridService } from "../api/grid/grid-service.ts";
import { MAX_BODY_BYTES } from "../api/http/json-body.ts";
import { createRateLimiter } from "../api/http/rate-limiter.ts";
import { createMarket } from "../api/market/market.ts";
import { type OpenApiDocument, OpenApiShape, type Operation } from "../api/openapi/document.ts";
import { checkSqlite } from "../api/health/service.ts";
import { createSqliteStore } from "../api/store/sqlite-store.ts";
import { ErrorBody } from "../common/contracts/error.ts";
import { createLogger } from "../common/log.ts";
import { createSessionTokens } from "../common/sessions/token.ts";
import { openStore } from "../common/store/sqlite.ts";
import { nginxUnavailable, startNginx, type TestNginx } from "./support/nginx.ts";
import { freePort } from "./support/ports.ts";
import { startRedis, type TestRedis } from "./support/redis-server.ts";
import { type RunningApi, startApi } from "./support/service.ts";

// Some of these tests start real processes: 30 s a test, as `make test` gives (bun test alone gives 5).
setDefaultTimeout(30_000);

const SECRET = "openapi-test-secret-0123456789abcdef";
const ORIGIN = "http://api.test";

/** The whole API in this process, on a temp database; no price (so the grid and bets answer 503), no Redis to reach, tight rate limits. */
function buildApp(dbPath: string) {
  const db = openStore(dbPath);
  const log = createLogger({ component: "api", level: "silent", sink: { write: () => {} } });
  const bets = createBetStore(db);
  const grid = createGridService({
    market: createMarket({ sigmaFloor: 0.0001, staleMs: 5000 }),
    settings: { columnMs: 5000, bandCents: 1000, columns: 12, rowsEachSide: 10, lockMs: 2000, houseEdge: 0.05, maxMultiplier: 100, minMultiplier: MIN_MULTIPLIER, minRtp: 0.9, quoteHorizonMs: 1000 },
  });
  const app = createApp({
    log,
    logRequest: () => {},
    store: createSqliteStore(db, { secret: SECRET }),
    database: { name: "sqlite", check: () => checkSqlite(db) },
    // Only /readyz touches Redis: its failed round trip is a documented 503.
    redis: {} as Redis,
    ticks: { latest: async () => undefined, newestInRange: async () => [] },
    tokens: createSessionTokens(SECRET),
    grid,
    placement: createBetPlacement({
      grid,
      exposure: createExposure({ maxOpenBets: 100, maxCellLiabilityCents: 5_000_000, maxHouseLiabilityCents: 100_000_000 }),
      bets,
      commits: createGroupCommitter(bets.placeBatch, { maxDelayMs: 0 }),
      limiter: createRateLimiter({ rate: 0.001, burst: 1 }),
      minStakeCents: 10,
      maxStakeCents: 10_000,
    }),
    // Two sessions, two recovery tries and one bet a player: the probes then meet each rate limit's 429.
    sessionLimiter: createRateLimiter({ rate: 0.001, burst: 2 }),
    recoveryLimiter: createRateLimiter({ rate: 0.001, burst: 2 }),
    startingBalanceCents: 100_000,
    sessionTtlMs: 86_400_000,
    corsOrigins: [],
  });
  return { app, db };
}

type App = ReturnType<typeof buildApp>["app"];
type Route = App["routes"][number];
type Schema = Record<string, unknown>;

let dir: string;
let app: App;
let closeDb: () => void;
let document: OpenApiDocument;
let token: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tap-openapi-"));
  const built = buildApp(join(dir, "bets.db"));
  app = built.app;
  closeDb = () => built.db.close();
  const answer = await app.handle(new Request(`${ORIGIN}/api/openapi.json`));
  expect(answer.status).toBe(200);
  document = (await answer.json()) as OpenApiDocument;
  const session = await app.handle(new Request(`${ORIGIN}/api/session`, { method: "POST" }));
  token = ((await session.json()) as { token: string }).token;
});

afterAll(() => {
  closeDb?.();
  rmSync(dir, { recursive: true, force: true });
});

/** The routes a client calls: OPTIONS are the CORS plugin's preflights, answered for every path. */
const servedRoutes = () => app.routes.filter((route) => route.method !== "OPTIONS");
const openApiPath = (path: string) => path.replace(/:([^/]+)/g, "{$1}");
const operationOf = (route: Route): Operation | undefined => document.paths[openApiPath(route.path)]?.[route.method.toLowerCase()];

/** A `$ref` inside the document, followed; anything else as it is. */
function resolve(schema: unknown): Schema {
  const ref = (schema as Schema | undefined)?.$ref;
  if (typeof ref !== "string") return (schema ?? {}) as Schema;
  const target = ref
    .replace(/^#\//, "")
    .split("/")
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], document);
  if (target === undefined) throw new Error(`${ref} points nowhere in the document`);
  return target as Schema;
}

/** The TypeBox schema a route validates a status's answer with, when it declares one. */
function declaredResponse(route: Route, status: string): TSchema | undefined {
  const response = route.hooks.response as Record<string, TSchema> | TSchema | undefined;
  if (!response) return undefined;
  if (typeof (response as TSchema).type === "string" || "anyOf" in response) return status === "200" ? (response as TSchema) : undefined;
  return (response as Record<string, TSchema>)[status];
}

function allRefs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) allRefs(item, found);
  else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") found.push(value);
      else allRefs(value, found);
    }
  }
  return found;
}

/** Python's openapi-spec-validator, where this machine has it: a check of the document by the specification's own schema. */
const specValidator = Bun.spawnSync(["python3", "-c", "import openapi_spec_validator"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
if (!specValidator) console.warn("test/openapi.test.ts: no python3 openapi-spec-validator here; the document is checked by this file's own rules only");

describe("the document", () => {
  test("is OpenAPI 3.1 in shape: version, info, paths, components, a bearer scheme and every $ref resolving", () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect([...Value.Errors(OpenApiShape, document)].map((error) => `${error.path} ${error.message}`)).toEqual([]);
    expect(typeof document.info.title).toBe("string");
    expect(typeof document.info.version).toBe("string");
    expect(Object.keys(document.paths).length).toBeGreaterThan(0);
    expect(document.components.schemas?.ErrorBody).toBeDefined();
    expect(document.components.securitySchemes?.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    for (const ref of allRefs(document)) expect(() => resolve({ $ref: ref })).not.toThrow();
    const tagNames = new Set((document.tags ?? []).map((tag) => tag.name));
    const operationIds = new Set<string>();
    for (const [path, methods] of Object.entries(document.paths)) {
      expect(path.startsWith("/")).toBe(true);
      for (const [method, operation] of Object.entries(methods)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(["get", "put", "post", "delete", "options", "head", "patch", "trace"], where).toContain(method);
        expect(operationIds.has(operation.operationId), `${where}: operationId ${operation.operationId} twice`).toBe(false);
        operationIds.add(operation.operationId);
        expect(operation.summary, `${where} has a summary`).toBeTruthy();
        expect(operation.tags?.length, `${where} has tags`).toBeGreaterThan(0);
        for (const tag of operation.tags ?? []) expect(tagNames.has(tag), `${where}: tag ${tag} is declared`).toBe(true);
        const statuses = Object.keys(operation.responses);
        expect(statuses.some((status) => status.startsWith("2")), `${where} has a success response`).toBe(true);
        for (const status of statuses) {
          expect(status).toMatch(/^[1-5][0-9]{2}$/);
          expect(operation.responses[status]!.description, `${where} ${status} has a description`).toBeTruthy();
        }
        for (const requirement of operation.security ?? []) {
          for (const scheme of Object.keys(requirement)) expect(document.components.securitySchemes?.[scheme], `${where}: scheme ${scheme}`).toBeDefined();
        }
      }
    }
  });

  test.skipIf(!specValidator)("passes the OpenAPI 3.1 schema itself (openapi-spec-validator)", () => {
    const run = Bun.spawnSync(["python3", "-c", "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(sys.stdin))"], {
      stdin: new TextEncoder().encode(JSON.stringify(document)),
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(run.stderr.toString().split("\n").slice(-12).join("\n")).toBe("");
    expect(run.exitCode).toBe(0);
  });

  test("has every route the app serves, with its methods, and nothing the app does not serve", () => {
    const routes = servedRoutes();
    expect(routes.length).toBeGreaterThan(10);
    for (const route of routes) expect(operationOf(route), `${route.method} ${route.path} is documented`).toBeDefined();
    const served = new Set(routes.map((route) => `${route.method.toLowerCase()} ${openApiPath(route.path)}`));
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const method of Object.keys(methods)) expect(served.has(`${method} ${path}`), `${method.toUpperCase()} ${path} is served`).toBe(true);
    }
  });

  test("documents every status a route declares in its response schemas, and the shared layer's errors on each route", () => {
    for (const route of servedRoutes()) {
      const operation = operationOf(route)!;
      const where = `${route.method} ${route.path}`;
      const documented = Object.keys(operation.responses);
      const declared = route.hooks.response as Record<string, unknown> | undefined;
      const statuses = declared && declaredResponse(route, "200") === undefined ? Object.keys(declared) : declared ? ["200"] : [];
      for (const status of statuses) expect(documented, `${where} documents its declared ${status}`).toContain(status);
      expect(documented, `${where}: an unexpected failure`).toContain("500");
      if (["POST", "PUT", "PATCH"].includes(route.method)) {
        for (const status of ["400", "413", "415"]) expect(documented, `${where}: a body's ${status}`).toContain(status);
      }
      if (route.hooks.body || route.hooks.query || route.hooks.params) expect(documented, `${where}: a schema's 400`).toContain("400");
      if (operation.security?.length) expect(documented, `${where}: the bearer token's 401`).toContain("401");
    }
  });

  test("each documented example validates against the schema its route validates with", () => {
    let checked = 0;
    const check = (schema: TSchema, value: unknown, where: string) => {
      const errors = [...Value.Errors(schema, value)].map((error) => `${error.path} ${error.message}`);
      expect(errors, where).toEqual([]);
      checked++;
    };
    for (const route of servedRoutes()) {
      const operation = operationOf(route)!;
      const where = `${route.method} ${route.path}`;
      const body = operation.requestBody?.content["application/json"];
      if (route.hooks.body) {
        const examples = resolve(body?.schema).examples as unknown[] | undefined;
        expect(examples?.length, `${where}: a request body example`).toBeGreaterThan(0);
        for (const example of examples ?? []) check(route.hooks.body as TSchema, example, `${where} body example`);
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        const media = response.content?.["application/json"];
        if (!media) continue;
        const schema = declaredResponse(route, status) ?? (Number(status) >= 400 ? ErrorBody : undefined);
        expect(schema, `${where} ${status}: a schema to check examples with`).toBeDefined();
        const examples = [...((resolve(media.schema).examples as unknown[] | undefined) ?? []), ...Object.values(media.examples ?? {}).map((example) => example.value)];
        expect(examples.length, `${where} ${status}: at least one example`).toBeGreaterThan(0);
        for (const example of examples) check(schema!, example, `${where} ${status} example`);
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});

/** Requests that provoke what a route can answer: no token, a token, bad query and path values, and bodies of every wrong kind. */
function probes(route: Route): { label: string; request: Request }[] {
  const path = route.path.replace(/:[^/]+/g, "x".repeat(65));
  const plainPath = route.path.replace(/:[^/]+/g, "0192f0c4-7a1e-7c3d-9b2a-5d6e7f8a9b0c");
  const auth = { authorization: `Bearer ${token}` };
  const request = (label: string, url: string, init: RequestInit = {}) => ({ label, request: new Request(`${ORIGIN}${url}`, { method: route.method, ...init }) });
  const list = [
    request("no token", plainPath),
    request("a bad token", plainPath, { headers: { authorization: "Bearer forged.token" } }),
    request("a token", plainPath, { headers: auth }),
    request("an unknown query parameter", `${plainPath}?unknown=1`, { headers: auth }),
    request("a bad query value", `${plainPath}?limit=many&status=lost-ish&from=yesterday`, { headers: auth }),
  ];
  if (path !== plainPath) list.push(request("a path value too long", path, { headers: auth }));
  if (["POST", "PUT", "PATCH"].includes(route.method)) {
    const json = { ...auth, "content-type": "application/json" };
    const example = ((route.hooks.body as TSchema | undefined)?.examples as unknown[] | undefined)?.[0];
    list.push(
      request("a text body", plainPath, { headers: { ...auth, "content-type": "text/plain" }, body: "hello" }),
      request("a body that is not JSON", plainPath, { headers: json, body: "{not json" }),
      request("a body over the limit", plainPath, { headers: json, body: JSON.stringify({ pad: "x".repeat(MAX_BODY_BYTES) }) }),
      request("an empty JSON object", plainPath, { headers: json, body: "{}" }),
      request("the documented example", plainPath, { headers: json, body: JSON.stringify(example ?? {}) }),
    );
  }
  return list;
}

describe("what the routes answer", () => {
  test("every status a route answers is documented, an error's code is one of its examples, and the body matches the schema", async () => {
    let answered = 0;
    const seen = new Set<string>();
    for (const route of servedRoutes()) {
      const operation = operationOf(route)!;
      for (const { label, request } of probes(route)) {
        const where = `${route.method} ${route.path} with ${label}`;
        const response = await app.handle(request);
        const status = String(response.status);
        const documented = operation.responses[status];
        expect(documented, `${where} answered ${status}`).toBeDefined();
        seen.add(status);
        answered++;
        const media = documented?.content?.["application/json"];
        if (!media) continue;
        const body: unknown = await response.json();
        const schema = declaredResponse(route, status) ?? (response.status >= 400 ? ErrorBody : undefined);
        if (schema) expect([...Value.Errors(schema, body)].map((error) => `${error.path} ${error.message}`), `${where}: body`).toEqual([]);
        const code = (body as { error?: { code?: string } }).error?.code;
        if (code !== undefined && media.examples) expect(Object.keys(media.examples), `${where}: code ${code}`).toContain(code);
        if (response.headers.get("www-authenticate")?.startsWith("Bearer")) {
          expect(operation.security?.some((requirement) => "bearer" in requirement), `${where}: a bearer 401 names the scheme`).toBe(true);
        }
      }
      if (operation.security?.length) {
        const bare = await app.handle(new Request(`${ORIGIN}${route.path.replace(/:[^/]+/g, "b1")}`, { method: route.method }));
        expect(bare.status, `${route.method} ${route.path} needs the token it documents`).toBe(401);
      }
    }
    expect(answered).toBeGreaterThan(60);
    // The probes reached the errors the shared layer answers, not only successes.
    for (const status of ["200", "201", "400", "401", "413", "415", "429", "503"]) expect(seen).toContain(status);
  });
});

/** Every URL a page refers to: attributes that load or link, and CSS url() and @import. */
function referencedUrls(html: string): string[] {
  const urls: string[] = [];
  for (const match of html.matchAll(/\s(?:src|href|action|formaction|poster|data|background|xlink:href|srcset|manifest|ping)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
    const value = match[2] ?? match[3] ?? match[4] ?? "";
    urls.push(...value.split(",").map((part) => part.trim().split(/\s+/)[0]!).filter(Boolean));
  }
  for (const match of html.matchAll(/url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]/gi)) urls.push((match[1] ?? match[2])!);
  return urls;
}

/** What makes a page need more than the site's CSP allows, or more than our origin. */
function pageProblems(html: string, pageUrl: string): string[] {
  const problems: string[] = [];
  const origin = new URL(pageUrl).origin;
  for (const url of referencedUrls(html)) {
    const resolved = new URL(url, pageUrl);
    if (resolved.origin !== origin) problems.push(`refers to ${url} on ${resolved.origin}`);
  }
  if (/<script\b/i.test(html)) problems.push("has a script");
  if (/\son[a-z]+\s*=/i.test(html)) problems.push("has an inline event handler");
  if (/<(iframe|object|embed|base)\b/i.test(html)) problems.push("embeds or rebases");
  return problems;
}

describe("the reference page", () => {
  test("finds a page that loads from another origin, runs a script or handles an event inline", () => {
    const page = "http://api.test/api/docs";
    expect(pageProblems('<link rel="stylesheet" href="https://cdn.jsdelivr.net/x.css">', page)).toEqual(["refers to https://cdn.jsdelivr.net/x.css on https://cdn.jsdelivr.net"]);
    expect(pageProblems("<img src=//cdn.example/a.png>", page)).toHaveLength(1);
    expect(pageProblems("<style>body { background: url('https://fonts.example/f.woff') }</style>", page)).toHaveLength(1);
    expect(pageProblems('<script src="/api/docs.js"></script>', page)).toEqual(["has a script"]);
    expect(pageProblems('<a href="#x" onclick="go()">x</a>', page)).toEqual(["has an inline event handler"]);
    expect(pageProblems('<a href="openapi.json">openapi.json</a> <a href="#getApiMe">me</a>', page)).toEqual([]);
  });

  test("is HTML from our origin only, names every operation, and links the document", async () => {
    const response = await app.handle(new Request(`${ORIGIN}/api/docs`));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/html");
    const html = await response.text();
    expect(pageProblems(html, `${ORIGIN}/api/docs`)).toEqual([]);
    for (const methods of Object.values(document.paths)) {
      for (const operation of Object.values(methods)) expect(html).toContain(`id="${operation.operationId}"`);
    }
    const documentLink = referencedUrls(html).map((url) => new URL(url, `${ORIGIN}/api/docs`)).find((url) => url.pathname === "/api/openapi.json");
    expect(documentLink).toBeDefined();
    expect((await app.handle(new Request(documentLink!.href))).status).toBe(200);
  });
});

const missingNginx = nginxUnavailable();
// CI installs nginx (scripts/setup.sh): there a missing nginx is a failure, not a skip.
if (missingNginx && !process.env.CI) console.warn(`test/openapi.test.ts: the nginx tests are skipped: ${missingNginx}`);

describe.if(!missingNginx || Boolean(process.env.CI))("through nginx", () => {
  let redis: TestRedis;
  let api: RunningApi;
  let nginx: TestNginx;
  let apiDir: string;

  beforeAll(async () => {
    redis = await startRedis();
    apiDir = mkdtempSync(join(tmpdir(), "tap-openapi-nginx-"));
    api = await startApi({ REDIS_URL: redis.url, DB_PATH: join(apiDir, "bets.db"), SESSION_SECRET: SECRET });
    nginx = await startNginx({ apiPort: api.port, wsPort: await freePort() });
  });

  afterAll(async () => {
    await nginx?.stop();
    await api?.stop("SIGKILL");
    await redis?.stop();
    rmSync(apiDir, { recursive: true, force: true });
  });

  test("the document and the reference page are served at /api/, and the page needs nothing the site's CSP forbids", async () => {
    const contract = await fetch(`${nginx.url}/api/openapi.json`);
    expect(contract.status).toBe(200);
    expect(Object.keys(((await contract.json()) as OpenApiDocument).paths).sort()).toEqual(Object.keys(document.paths).sort());

    const page = await fetch(`${nginx.url}/api/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(pageProblems(html, `${nginx.url}/api/docs`)).toEqual([]);
    const csp = page.headers.get("content-security-policy") ?? "";
    const directive = (name: string) => csp.split(";").map((part) => part.trim().split(/\s+/)).find(([key]) => key === name)?.slice(1) ?? [];
    expect(directive("default-src")).toEqual(["'self'"]);
    // The one thing the page has inline is its style sheet: the site's policy must allow it.
    if (/<style\b/i.test(html)) expect(directive("style-src")).toContain("'unsafe-inline'");
    for (const url of referencedUrls(html)) {
      const target = new URL(url, `${nginx.url}/api/docs`);
      if (target.hash && target.pathname === "/api/docs") continue;
      expect((await fetch(target)).status, `${url} through nginx`).toBe(200);
    }
  });
});
