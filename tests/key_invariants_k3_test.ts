/**
 * K3 Only for requests the user starts: Google is called only while a key
 * check or a run the user started is being answered — never by pages, forms,
 * estimates, history, downloads, deletes or in the background afterwards.
 */
import assert from "node:assert/strict";
import { createBatchViaApi, form, startTestApp, TEST_KEY } from "./_helpers.ts";
import { HTMX, newWorkspace } from "./_html.ts";

const MODEL = "gemini-nano-banana-2.1";
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

Deno.test("K3 Google is called only during the key checks and runs the user starts, never by other requests or afterwards", async () => {
  await using t = await startTestApp();
  const cookie = await newWorkspace(t);
  const send = async (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("cookie", cookie);
    const response = await t.request(path, { ...init, headers });
    await response.arrayBuffer();
    assert.ok(response.status < 500, `${path}: ${response.status}`);
    return response;
  };
  const { id } = await createBatchViaApi(t, {
    prompts: ["a plover", "a dunlin"],
    model: MODEL,
  }, { cookie });

  // Everything but a key check or a run: no call to Google at all.
  const quiet = async () => {
    for (
      const path of ["/", "/key", "/history", `/batches/${id}`, `/?from=${id}`]
    ) {
      await send(path);
      await send(path, { headers: HTMX });
    }
    await send(`/batches/options?model=${MODEL}`);
    await send("/batches/estimate", {
      method: "POST",
      body: form({ prompts: "a\nb", model: MODEL, apiKey: TEST_KEY }),
    });
    await send("/batches", {
      method: "POST",
      body: form({ prompts: "a snipe", model: MODEL, apiKey: TEST_KEY }),
    });
    await send("/api/batches");
    await send(`/api/batches/${id}`);
    await send(`/api/batches/${id}/manifest.json`);
    await send(`/api/batches/${id}/download.zip`);
    await send(`/batches/${id}/runner`);
    await send(`/api/batches/${id}/cancel`, { method: "POST" });
  };
  await quiet();
  await settle();
  assert.equal(
    t.fake.requests.length,
    0,
    "Google was called without a key check or run",
  );

  // A key check calls Google while it is answered, and not after.
  await send("/keys/validate", {
    method: "POST",
    body: form({ apiKey: TEST_KEY }),
  });
  const afterCheck = t.fake.requests.length;
  assert.ok(afterCheck > 0, "the key check did not reach Google");
  await quiet();
  await settle();
  assert.equal(
    t.fake.requests.length,
    afterCheck,
    "a call after the key check",
  );

  // A run calls Google while its stream is open, and not after it ended.
  await send(`/api/batches/${id}/run`, {
    method: "POST",
    headers: { "x-goog-api-key": TEST_KEY },
  });
  const afterRun = t.fake.requests.length;
  assert.ok(afterRun > afterCheck, "the run did not reach Google");
  assert.equal(t.deps.activeRuns.size, 0, "the run outlived its request");
  await quiet();
  await settle();
  assert.equal(t.fake.requests.length, afterRun, "a call after the run ended");

  // Every call carried the key the user sent, in the header.
  for (const request of t.fake.requests) {
    assert.equal(request.headers["x-goog-api-key"], TEST_KEY, request.path);
  }
});
