/**
 * Shared pieces of the Batch API tests (batches_test.ts, batch_wire_test.ts,
 * batch_results_test.ts): a test key, a stand-in for Google on 127.0.0.1 for
 * shapes the fake does not serve, and key-leak checks.
 */
import assert from "node:assert/strict";
import { scrub } from "../core/scrub.ts";
import type { Failure } from "./errors.ts";
import type { RecordedRequest } from "../tests/fake_gemini.ts";
import { type BatchRequestRow, imageRequestBody } from "./batches.ts";

export type { BatchResult } from "./batch_results.ts";

export const KEY = "AQ.Ab8RN6LkBatchTestKey0123456789abcdefghijklmn";
export const MODEL = "gemini-3.1-flash-lite-image";

/** Rows `row-0`, `row-1`, … of one image each. */
export function rows(prompts: string[]): BatchRequestRow[] {
  return prompts.map((prompt, i) => ({
    key: `row-${i}`,
    request: imageRequestBody({ prompt, aspectRatio: "1:1", references: [] }),
  }));
}

/** A job answer as Google words it. */
export function jobAnswer(
  name: string,
  more: Record<string, unknown> = {},
): Response {
  return Response.json({
    name,
    metadata: {
      state: "BATCH_STATE_PENDING",
      batchStats: { requestCount: "1" },
      ...more,
    },
  });
}

/** One request a stub received. */
export interface Seen {
  method: string;
  path: string;
  search: string;
  key: string | null;
  contentType: string | null;
  body: string;
}

/** A stand-in for Google that answers with `handler` and records what came. */
export function stub(
  handler: (url: URL, seen: Seen) => Response | Promise<Response>,
) {
  const seen: Seen[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const url = new URL(request.url);
      const one: Seen = {
        method: request.method,
        path: url.pathname,
        search: url.search,
        key: request.headers.get("x-goog-api-key"),
        contentType: request.headers.get("content-type"),
        body: await request.text(),
      };
      seen.push(one);
      return await handler(url, one);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** Google's HTTP error envelope. */
export function googleError(
  code: number,
  status: string,
  message: string,
  details: unknown[] = [],
): Response {
  return Response.json({ error: { code, message, status, details } }, {
    status: code,
  });
}

/** The failure of a result that must have failed. */
export function failureOf(
  result: { ok: true } | { ok: false; failure: Failure },
): Failure {
  assert.equal(
    result.ok,
    false,
    `expected a failure: ${JSON.stringify(result)}`,
  );
  return (result as { ok: false; failure: Failure }).failure;
}

/** `text` holds no key material (the scrubber finds nothing to remove). */
export function assertNoKey(text: string, key = KEY): void {
  assert.equal(scrub(text, [key]), text, `key material in: ${text}`);
}

/** Every request carried the key in the header only. */
export function assertKeyOnlyInHeader(
  requests: readonly (Seen | RecordedRequest)[],
  key = KEY,
): void {
  assert.ok(requests.length > 0, "no request was made");
  for (const r of requests) {
    const header = "key" in r ? r.key : r.headers["x-goog-api-key"];
    assert.equal(header, key, r.path);
    const rest = "key" in r
      ? r.path + r.search + r.body
      : r.path + JSON.stringify(r.query) + JSON.stringify(r.body);
    assertNoKey(rest, key);
  }
}
