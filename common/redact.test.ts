import { describe, expect, test } from "bun:test";
import { createRedactor, redactUrl, urlPassword } from "./redact.ts";

describe("redactUrl", () => {
  test("hides the user info, an unencoded '@' or '/' in the password included, and leaves a URL without one alone", () => {
    expect(redactUrl("redis://tap-api:s3cret@10.0.0.5:6379")).toBe("redis://***@10.0.0.5:6379");
    expect(redactUrl("rediss://:s3cret@h:1/0")).toBe("rediss://***@h:1/0");
    expect(redactUrl("redis://u:p@ss/w@rd@h:1")).toBe("redis://***@h:1");
    expect(redactUrl("redis://127.0.0.1:6379")).toBe("redis://127.0.0.1:6379");
  });
});

describe("urlPassword", () => {
  test("is the decoded password of the user info, or undefined without one", () => {
    expect(urlPassword("redis://tap-ws:s%40cret@h:6379")).toBe("s@cret");
    expect(urlPassword("redis://:pa:ss@h:6379")).toBe("pa:ss");
    expect(urlPassword("redis://u:p@ss@h:6379")).toBe("p@ss");
    expect(urlPassword("redis://user@h:6379")).toBeUndefined();
    expect(urlPassword("redis://h:6379")).toBeUndefined();
  });
});

describe("createRedactor", () => {
  test("hides every URL's user info in a line, and nothing else", () => {
    const redact = createRedactor();
    const line = JSON.stringify({ a: "redis://u:one@h:1", b: "x wss://k:two@venue.example/v2 y", c: "https://example.com/path", d: "mail me@example.com" });
    expect(JSON.parse(redact(line))).toEqual({ a: "redis://***@h:1", b: "x wss://***@venue.example/v2 y", c: "https://example.com/path", d: "mail me@example.com" });
  });

  test("hides each secret as written, JSON-escaped and percent-encoded; ignores unset and too short ones", () => {
    const secret = 'key"with/odd@chars-0123456789';
    const redact = createRedactor([secret, undefined, "short"]);
    const line = JSON.stringify({ raw: `k=${secret}`, encoded: `k=${encodeURIComponent(secret)}`, word: "short" });
    const out = redact(line);
    expect(JSON.parse(out)).toEqual({ raw: "k=***", encoded: "k=***", word: "short" });
  });

  test("a line with nothing to hide comes back unchanged", () => {
    const line = '{"level":"info","msg":"listening","port":8080}';
    expect(createRedactor(["session-secret-0123456789abcdef"])(line)).toBe(line);
  });
});
