/**
 * [gemini] The one Google client never follows a redirect: fetch would send
 * the request again, `x-goog-api-key` included, wherever `Location` points.
 * Both users of the client — the key check and the generator's requests —
 * refuse a 3xx with a clear message, and the other host receives nothing.
 */
import assert from "node:assert/strict";
import { checkKey } from "../engine/key_check.ts";
import { createGeminiRequester } from "./generate.ts";

const KEY = "AQ.Ab8RN6LkRedirectTestKey0123456789abcdefghij";

/** A host that records requests, and one that redirects every request to it. */
function startRedirectPair(status: number) {
  const seen: string[] = [];
  const target = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      seen.push(request.headers.get("x-goog-api-key") ?? "(no key)");
      return Response.json({ models: [] });
    },
  );
  const redirector = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const url = new URL(request.url);
      url.port = String(target.addr.port);
      return new Response(null, {
        status,
        headers: { location: url.href },
      });
    },
  );
  return {
    baseUrl: `http://127.0.0.1:${redirector.addr.port}`,
    seen,
    async [Symbol.asyncDispose]() {
      await redirector.shutdown();
      await target.shutdown();
    },
  };
}

Deno.test("[gemini] the key check refuses a redirect and sends the key nowhere else", async () => {
  for (const status of [301, 302, 307, 308]) {
    await using pair = startRedirectPair(status);
    const result = await checkKey(KEY, pair.baseUrl);
    assert.equal(result.ok, false, `HTTP ${status}`);
    if (result.ok) continue;
    assert.equal(result.problem.code, "google_error");
    assert.match(result.problem.message, /redirect.*never follows/);
    assert.deepEqual(
      pair.seen,
      [],
      `the key went to the other host (${status})`,
    );
  }
});

Deno.test("[gemini] an image request answered with a redirect fails without a retry, the key kept home", async () => {
  await using pair = startRedirectPair(307);
  const request = createGeminiRequester({ apiKey: KEY, baseUrl: pair.baseUrl });
  const outcome = await request(
    { model: "gemini-nano-banana-2.1", prompt: "a fox", aspectRatio: "1:1" },
    new AbortController().signal,
  );
  assert.equal(outcome.ok, false);
  if (outcome.ok) return;
  assert.equal(outcome.failure.kind, "invalid-request", "not retried");
  assert.match(outcome.failure.message, /redirect/);
  assert.deepEqual(pair.seen, []);
});
