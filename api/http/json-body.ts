import { HttpError } from "./http-error.ts";

/**
 * The largest request body the API reads, in bytes (16 KiB). Nginx's
 * client_max_body_size matches it (nginx/render.test.ts checks that).
 *
 * ```ts
 * if (Number(request.headers.get("content-length")) > MAX_BODY_BYTES) throw tooLarge();
 * ```
 */
export const MAX_BODY_BYTES = 16 * 1024;

const tooLarge = () => new HttpError(413, "payload_too_large", `request body is larger than ${MAX_BODY_BYTES} bytes`);

/**
 * Reads a JSON request body, refusing other media types (415) and bodies over
 * `MAX_BODY_BYTES` (413) without buffering more than the limit, even when the
 * body is chunked and declares no length. An empty body is no body: undefined.
 *
 * ```ts
 * new Elysia().onParse(async ({ request, contentType }) => (await readJsonBody(request, contentType)) ?? null);
 * ```
 */
export async function readJsonBody(request: Request, contentType: string | undefined): Promise<unknown> {
  // Elysia passes no content type when the body is empty; the header still tells what was meant.
  const declaredType = contentType || request.headers.get("content-type") || "";
  const declared = request.headers.get("content-length");
  // No body at all (a bare POST): nothing to parse; a route that needs one says so in its schema.
  if (declaredType === "" && (declared === "0" || (declared === null && !request.headers.has("transfer-encoding")))) return undefined;
  const mediaType = declaredType.split(";", 1)[0]?.trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw new HttpError(415, "unsupported_media_type", "request body must be application/json");
  }
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw tooLarge();
  // An empty JSON body is no body too (a client's bodyless POST with a default content type).
  if (declared === "0") return undefined;

  try {
    // With a declared length within the limit, Bun reads and parses natively.
    if (declared !== null) return await request.json();
    const text = await readLimited(request);
    return text === "" ? undefined : JSON.parse(text);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(400, "bad_json", "request body is not valid JSON");
  }
}

/** The body as text, refused (413) as soon as it passes `MAX_BODY_BYTES`. */
async function readLimited(request: Request): Promise<string> {
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
