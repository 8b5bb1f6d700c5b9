import { describe, expect, test } from "bun:test";
import { HttpError } from "./http-error.ts";
import { readJsonBody } from "./json-body.ts";

const post = (body: BodyInit | null, headers: Record<string, string>) => new Request("http://api.test/api/session", { method: "POST", body, headers });
/** A body with no Content-Length, read as it streams in. */
const chunked = (...parts: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
      controller.close();
    },
  });

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

  test("another media type is 415, even when empty", async () => {
    expect(await refusal(readJsonBody(post("", { "content-type": "text/plain", "content-length": "0" }), "text/plain"))).toEqual({ status: 415, code: "unsupported_media_type" });
  });
});
