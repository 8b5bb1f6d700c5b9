import { describe, expect, test } from "bun:test";
import { HttpError } from "./http-error.ts";
import { MAX_BODY_BYTES, readJsonBody } from "./json-body.ts";

const post = (body: BodyInit | null, headers: Record<string, string>) => new Request("http://api.test/api/session", { method: "POST", body, headers });
/** A body with no Content-Length, read as it streams in. */
const chunked = (...parts: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
      controller.close();
    },
  });

/** A JSON document of exactly `bytes` bytes. */
const jsonOf = (bytes: number) => JSON.stringify({ pad: "x".repeat(bytes - '{"pad":""}'.length) });

async function refusal(body: Promise<unknown>): Promise<{ status: number; code: string }> {
  const error = await body.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof HttpError)) throw new Error(`expected an HttpError, got ${String(error)}`);
  return { status: error.status, code: error.code };
}

describe("readJsonBody", () => {
  test("an empty JSON body, declared or chunked, is no body", async () => {
    expect(await readJsonBody(post("", { "content-type": "application/json", "content-length": "0" }), "application/json")).toBeUndefined();
    expect(await readJsonBody(post(chunked(""), { "content-type": "application/json", "transfer-encoding": "chunked" }), "application/json")).toBeUndefined();
    expect(await readJsonBody(post(null, {}), undefined)).toBeUndefined();
  });

  test("JSON is parsed, declared or chunked", async () => {
    expect(await readJsonBody(post('{"a":1}', { "content-type": "application/json; charset=utf-8", "content-length": "7" }), "application/json")).toEqual({ a: 1 });
    expect(await readJsonBody(post(chunked('{"a":', "1}"), { "content-type": "application/json", "transfer-encoding": "chunked" }), "application/json")).toEqual({ a: 1 });
  });

  test("bad JSON is 400 bad_json, whitespace alone included", async () => {
    for (const text of ["{", " ", "{not json"]) {
      const length = String(Buffer.byteLength(text));
      expect(await refusal(readJsonBody(post(text, { "content-type": "application/json", "content-length": length }), "application/json"))).toEqual({ status: 400, code: "bad_json" });
      expect(await refusal(readJsonBody(post(chunked(text), { "content-type": "application/json", "transfer-encoding": "chunked" }), "application/json"))).toEqual({ status: 400, code: "bad_json" });
    }
  });

  test("the media type is matched without regard to case or parameters", async () => {
    const request = post('{"a":1}', { "content-type": "Application/JSON ; charset=UTF-8", "content-length": "7" });
    expect(await readJsonBody(request, "Application/JSON ; charset=UTF-8")).toEqual({ a: 1 });
  });

  test("a body with no content type is 415; a bare POST (no type, no length, not chunked) is no body", async () => {
    expect(await refusal(readJsonBody(post("{}", { "content-length": "2" }), undefined))).toEqual({ status: 415, code: "unsupported_media_type" });
    expect(await refusal(readJsonBody(post(chunked("{}"), { "transfer-encoding": "chunked" }), undefined))).toEqual({ status: 415, code: "unsupported_media_type" });
    expect(await readJsonBody(post(null, {}), "")).toBeUndefined();
  });

  test("exactly MAX_BODY_BYTES is read, declared or chunked", async () => {
    const text = jsonOf(MAX_BODY_BYTES);
    expect(Buffer.byteLength(text)).toBe(MAX_BODY_BYTES);
    const declared = post(text, { "content-type": "application/json", "content-length": String(MAX_BODY_BYTES) });
    expect(await readJsonBody(declared, "application/json")).toEqual(JSON.parse(text));
    const streamed = post(chunked(text.slice(0, 1000), text.slice(1000)), { "content-type": "application/json", "transfer-encoding": "chunked" });
    expect(await readJsonBody(streamed, "application/json")).toEqual(JSON.parse(text));
  });

  test("a declared length over MAX_BODY_BYTES is 413", async () => {
    const text = jsonOf(MAX_BODY_BYTES + 1);
    const request = post(text, { "content-type": "application/json", "content-length": String(MAX_BODY_BYTES + 1) });
    expect(await refusal(readJsonBody(request, "application/json"))).toEqual({ status: 413, code: "payload_too_large" });
  });

  test("a chunked body is 413 once it passes MAX_BODY_BYTES, without reading on", async () => {
    const chunk = new Uint8Array(1024).fill(0x20);
    let pulled = 0;
    // Four times the limit on offer: a reader that stops at the limit takes little more than a quarter.
    const large = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 4 * MAX_BODY_BYTES) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const request = post(large, { "content-type": "application/json", "transfer-encoding": "chunked" });
    expect(await refusal(readJsonBody(request, "application/json"))).toEqual({ status: 413, code: "payload_too_large" });
    expect(pulled).toBeLessThanOrEqual(MAX_BODY_BYTES + 4 * chunk.byteLength);
  });

  test("another media type is 415, even when empty", async () => {
    expect(await refusal(readJsonBody(post("", { "content-type": "text/plain", "content-length": "0" }), "text/plain"))).toEqual({ status: 415, code: "unsupported_media_type" });
  });
});
