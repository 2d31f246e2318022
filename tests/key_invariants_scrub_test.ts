/**
 * K5 Errors are scrubbed: text from Google, the SDK or the generator never
 * shows, logs or stores key material, and stays readable. Proven against the
 * fake (whose invalid-key error echoes the key in DebugInfo), against a
 * hostile upstream that echoes the key in the message itself (raw, in a URL,
 * JSON-escaped, base64, split over lines), and against a generator that
 * forgot to scrub (the server's own layer must catch it).
 */
import assert from "node:assert/strict";
import { form, startTestApp, TEST_KEY, type TestApp } from "./_helpers.ts";
import { BAD_KEY, dbCells, LeakScan, recordingClient } from "./_key_leaks.ts";
import type { GeneratorEvent } from "../core/protocol.ts";
import type { GeneratorRun } from "../engine/runner.ts";

const MODEL = "gemini-nano-banana-2.1";
const READABLE = /API key not valid/;

/** A "Google" that answers every call 400 API_KEY_INVALID echoing the key in its message. */
function startEchoingGoogle() {
  return Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request) => {
      const key = request.headers.get("x-goog-api-key") ?? "";
      const message = "API key not valid. Please pass a valid API key. " +
        `Got ${key} (see https://example.test/v1?key=${
          encodeURIComponent(key)
        }), as JSON ${JSON.stringify({ key })}, as base64 ${btoa(key)}, ` +
        `split ${key.slice(0, 20)}\n${key.slice(20)}.`;
      return Response.json({
        error: {
          code: 400,
          message,
          status: "INVALID_ARGUMENT",
          details: [{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "API_KEY_INVALID",
            domain: "googleapis.com",
          }],
        },
      }, { status: 400 });
    },
  );
}

/** Validates and runs with `key`, checking every surface for leaks and readability. */
async function invalidKeyEverywhere(t: TestApp, key: string) {
  const scan = new LeakScan();
  const c = recordingClient(t, scan);
  const page = await c.send("/keys/validate", {
    method: "POST",
    body: form({ apiKey: key }),
  });
  assert.equal(page.status, 422, page.text);
  assert.match(page.text, READABLE, "the page fragment lost Google's text");
  const api = await c.send("/api/keys/validate", {
    method: "POST",
    headers: { "x-goog-api-key": key },
  });
  assert.equal(api.status, 422, api.text);
  const error = JSON.parse(api.text).error;
  assert.equal(error.code, "key_rejected");
  assert.match(error.message, READABLE, "the API error lost Google's text");

  const created = await c.send("/api/batches", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompts: ["one", "two", "three"], model: MODEL }),
  });
  const { id } = JSON.parse(created.text);
  const sse = await c.send(`/batches/${id}/run`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: form({ apiKey: key }),
  });
  assert.match(sse.text, READABLE, "the SSE fragments lost Google's text");
  const ndjson = await c.send(`/api/batches/${id}/run?mode=retry`, {
    method: "POST",
    headers: { "x-goog-api-key": key },
  });
  assert.match(ndjson.text, READABLE, "the NDJSON events lost Google's text");

  const record = JSON.parse((await c.send(`/api/batches/${id}`)).text);
  assert.match(record.statusMessage ?? "", READABLE, "stored batch message");
  // An auth failure stops the batch: its items wait to be resumed.
  for (const item of record.items) {
    assert.equal(item.status, "interrupted", JSON.stringify(item));
    if (item.errorMessage) assert.match(item.errorMessage, READABLE);
  }
  await c.send(`/batches/${id}`);
  await c.send(`/api/batches/${id}/manifest.json`);

  for (const [cell, value] of await dbCells(t)) scan.add(`DB ${cell}`, value);
  t.logs.forEach((line, i) => scan.add(`server log ${i}`, line));
  t.stderrLines.forEach((line, i) => scan.add(`generator stderr ${i}`, line));
  scan.assertClean([key]);
  return { record, text: page.text + api.text + sse.text + ndjson.text };
}

Deno.test("K5 an invalid key echoed by Google (fake, DebugInfo) is scrubbed from page, API, SSE, NDJSON, DB and logs, text kept", async () => {
  await using t = await startTestApp();
  await invalidKeyEverywhere(t, BAD_KEY);
  assert.ok(
    t.fake.requests.some((r) => r.status === 400),
    "the fake never answered 400: the echo was not exercised",
  );
});

for (const key of [BAD_KEY, TEST_KEY]) {
  Deno.test(
    `K5 a key echoed in Google's message itself (raw, URL, JSON, base64, split; ${
      key.slice(0, 4)
    }…) is redacted, not dropped`,
    async () => {
      await using google = startEchoingGoogle();
      await using t = await startTestApp({
        env: {
          BATCHGEN_GEMINI_BASE_URL: `http://127.0.0.1:${google.addr.port}`,
        },
      });
      const { record, text } = await invalidKeyEverywhere(t, key);
      assert.match(text, /REDACTED/, "the echo should be visibly redacted");
      assert.match(record.statusMessage, /Got \[REDACTED\]/);
    },
  );
}

Deno.test("K5 the server scrubs generator events and stderr even when the generator did not", async () => {
  await using t = await startTestApp();
  // A generator whose own scrubbing broke: it repeats the key it was given.
  t.deps.spawn = (job, options): GeneratorRun => {
    const leak = `API key not valid: ${options.apiKey}`;
    options.onStderr?.(`stderr says ${options.apiKey}`);
    const first = job.items[0]!.itemId;
    const events: GeneratorEvent[] = [
      { type: "started", items: job.items.length },
      { type: "item-started", itemId: first, attempt: 1 },
      {
        type: "item-failed",
        itemId: first,
        kind: "auth",
        message: leak,
        retryable: false,
      },
      { type: "batch-stopped", kind: "auth", message: leak },
      { type: "done", succeeded: 0, failed: 1 },
    ];
    return {
      pid: 0,
      events: (async function* () {
        yield* events;
      })(),
      exited: Promise.resolve(0),
      kill() {},
    };
  };
  const scan = new LeakScan();
  const c = recordingClient(t, scan);
  const created = await c.send("/api/batches", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompts: ["a", "b"], model: MODEL }),
  });
  const { id } = JSON.parse(created.text);
  const sse = await c.send(`/batches/${id}/run`, {
    method: "POST",
    headers: { "HX-Request": "true" },
    body: form({ apiKey: BAD_KEY }),
  });
  const ndjson = await c.send(`/api/batches/${id}/run?mode=retry`, {
    method: "POST",
    headers: { "x-goog-api-key": BAD_KEY },
  });
  const record = JSON.parse((await c.send(`/api/batches/${id}`)).text);
  for (const [cell, value] of await dbCells(t)) scan.add(`DB ${cell}`, value);
  t.logs.forEach((line, i) => scan.add(`server log ${i}`, line));
  scan.assertClean([BAD_KEY]);
  // Redacted, not dropped: the rest of the text is still there.
  assert.match(sse.text, /API key not valid: \[REDACTED\]/);
  assert.match(ndjson.text, /API key not valid: \[REDACTED\]/);
  assert.match(record.statusMessage, /API key not valid: \[REDACTED\]/);
  assert.match(t.logs.join("\n"), /stderr says \[REDACTED\]/);
});
