/**
 * [hostile] BatchGen against an upstream that tries to steal, hang or flood
 * (tests/hostile_gemini.ts), through the real app and the real generator:
 * redirects are never followed with the key, echoes are scrubbed wherever
 * they land, listings and bodies are bounded, absurd numbers are clamped and
 * only real PNG/JPEG/WebP bytes are stored and served, under their own type.
 */
import assert from "node:assert/strict";
import { LIMITS } from "../core/limits.ts";
import { MAX_MODEL_PAGES } from "../engine/key_check.ts";
import {
  createBatchViaApi,
  form,
  readNdjson,
  startTestApp,
  TEST_KEY,
  type TestApp,
} from "./_helpers.ts";
import { findKeyMaterial } from "./_key_leaks.ts";
import { expectJson, query } from "./_html.ts";
import {
  type Hostility,
  startHostileGemini,
  startRecorder,
} from "./hostile_gemini.ts";

const MODEL = "gemini-nano-banana-2.1";

async function appAgainst(hostile: { url: string }): Promise<TestApp> {
  return await startTestApp({
    env: { BATCHGEN_GEMINI_BASE_URL: hostile.url },
  });
}

/** The page's and the API's key checks, as text. */
async function validateBoth(t: TestApp) {
  const page = await t.request("/keys/validate", {
    method: "POST",
    body: form({ apiKey: TEST_KEY }),
  });
  const api = await t.request("/api/keys/validate", {
    method: "POST",
    headers: { "x-goog-api-key": TEST_KEY },
  });
  return {
    page: { status: page.status, body: await page.text() },
    api: { status: api.status, body: await api.text() },
  };
}

/** Creates and runs a one-prompt batch; returns the stream and the record. */
async function runOne(t: TestApp) {
  const batch = await createBatchViaApi(t, {
    prompts: ["a lark"],
    model: MODEL,
  });
  const stream = await t.request(`/api/batches/${batch.id}/run`, {
    method: "POST",
    headers: { cookie: batch.cookie, "x-goog-api-key": TEST_KEY },
  });
  const events = await readNdjson(stream);
  const record = await expectJson(
    await t.request(`/api/batches/${batch.id}`, {
      headers: { cookie: batch.cookie },
    }),
    200,
  );
  return { batch, events, record };
}

/** Every cell of every table, as text, for leak checks. */
async function database(t: TestApp): Promise<string> {
  const rows = [];
  for (const table of ["batches", "items", "prompts", "images"]) {
    rows.push(...await query(t, `select * from ${table}`));
  }
  return JSON.stringify(rows);
}

Deno.test("[hostile] a redirect is never followed with the key: the check fails clearly, a run's item fails, the other host gets nothing", async () => {
  for (const status of [302, 307, 308]) {
    await using elsewhere = startRecorder();
    await using hostile = startHostileGemini({ kind: "redirect", status }, {
      redirectTo: elsewhere.url,
    });
    await using t = await appAgainst(hostile);
    const { page, api } = await validateBoth(t);
    assert.equal(page.status, 502, page.body);
    assert.match(page.body, /redirect.*never follows/);
    assert.doesNotMatch(page.body, /Key works/);
    assert.equal(api.status, 502);
    assert.equal(JSON.parse(api.body).error.code, "google_error");
    const { record } = await runOne(t);
    assert.equal(record.items[0].status, "failed");
    assert.match(record.items[0].errorMessage, /redirect/);
    assert.deepEqual(elsewhere.requests, [], `HTTP ${status}`);
    assert.ok(hostile.requests.every((r) => r.key === TEST_KEY));
  }
});

Deno.test("[hostile] model names and display names that echo the key are scrubbed on the page and in the API", async () => {
  await using hostile = startHostileGemini({ kind: "echo-in-models" });
  await using t = await appAgainst(hostile);
  const { page, api } = await validateBoth(t);
  assert.equal(page.status, 200);
  assert.equal(api.status, 200);
  assert.equal(findKeyMaterial(page.body, TEST_KEY), undefined, "page");
  assert.equal(findKeyMaterial(api.body, TEST_KEY), undefined, "api");
  assert.match(api.body, /gemini-x-image-\[REDACTED\]/);
});

Deno.test("[hostile] a model listing that never ends is cut at a page cap", async () => {
  await using hostile = startHostileGemini({ kind: "endless-pages" });
  await using t = await appAgainst(hostile);
  const { api } = await validateBoth(t);
  assert.equal(api.status, 200);
  const listed = hostile.requests.filter((r) => r.path.endsWith("/models"));
  assert.equal(listed.length, 2 * MAX_MODEL_PAGES, "pages for both checks");
  assert.equal(JSON.parse(api.body).models.length, MAX_MODEL_PAGES);
});

Deno.test("[hostile] a 50 MB error body is read only in part: short, scrubbed answers", async () => {
  await using hostile = startHostileGemini({
    kind: "huge-error",
    bytes: 50 * 1024 * 1024,
  });
  await using t = await appAgainst(hostile);
  const { page, api } = await validateBoth(t);
  // Cut short, the body is no longer Google's JSON: "could not check".
  assert.ok([422, 502].includes(api.status), api.body.slice(0, 300));
  const message: string = JSON.parse(api.body).error.message;
  assert.ok(message.length < 1000, `${message.length} characters`);
  for (const body of [page.body, api.body]) {
    assert.equal(findKeyMaterial(body, TEST_KEY), undefined);
  }
  const { record } = await runOne(t);
  assert.notEqual(record.items[0].status, "succeeded");
  const reason = `${record.statusMessage ?? ""} ${
    record.items[0].errorMessage ?? ""
  }`;
  assert.ok(reason.length < 1500, `${reason.length} characters`);
  assert.equal(findKeyMaterial(await database(t), TEST_KEY), undefined);
  // Every answer (two checks, the run's attempts) offered 50 MB; each was
  // read only as far as the bound, plus what the sockets buffer ahead: all
  // of them together stay below one whole body.
  assert.ok(
    hostile.hugeBytesRead < 48 * 1024 * 1024,
    `${hostile.hugeBytesRead} bytes read`,
  );
});

Deno.test("[hostile] absurd token counts are clamped: the run succeeds and costs stay finite", async () => {
  await using hostile = startHostileGemini({ kind: "absurd-usage" });
  await using t = await appAgainst(hostile);
  const { events, record } = await runOne(t);
  assert.equal(record.status, "done", JSON.stringify(events.at(-1)));
  const usage = record.items[0].usage;
  assert.equal(usage.promptTokens, LIMITS.tokensPerAnswer);
  assert.equal(usage.imageTokens, LIMITS.tokensPerAnswer);
  assert.equal(usage.thoughtTokens, 0);
  assert.ok(Number.isFinite(record.actualCostUsd));
});

Deno.test("[hostile] an image label that attacks headers is ignored: PNG bytes are served as image/png and nothing else", async () => {
  const hostility: Hostility = {
    kind: "bad-mime",
    mimeType: "image/png;\r\nSet-Cookie: session=stolen",
  };
  await using hostile = startHostileGemini(hostility);
  await using t = await appAgainst(hostile);
  const { batch, record } = await runOne(t);
  assert.equal(record.items[0].status, "succeeded");
  assert.equal(record.items[0].image.mimeType, "image/png");
  const served = await t.request(record.items[0].image.url, {
    headers: { cookie: batch.cookie },
  });
  assert.equal(served.status, 200);
  assert.equal(served.headers.get("content-type"), "image/png");
  assert.equal(served.headers.get("set-cookie"), null);
  await served.body?.cancel();
});

Deno.test("[hostile] HTML labelled image/png is not stored: the item fails as storage", async () => {
  await using hostile = startHostileGemini({
    kind: "bad-mime",
    mimeType: "image/png",
    data: "html",
  });
  await using t = await appAgainst(hostile);
  const { record } = await runOne(t);
  assert.equal(record.items[0].status, "failed");
  assert.equal(record.items[0].errorKind, "storage");
  assert.equal(record.items[0].image, null);
});

/** The key spelt the ways the red team found stored and decodable. */
const SPELLINGS: [string, (key: string) => string][] = [
  [
    "hex",
    (k) =>
      [...new TextEncoder().encode(k)].map((b) =>
        b.toString(16).padStart(2, "0")
      ).join(""),
  ],
  ["reversed", (k) => [...k].reverse().join("")],
  ["upper-case", (k) => k.toUpperCase()],
  ["zero-width", (k) => [...k].join("\u200b")],
  ["split by |", (k) => k.match(/.{1,7}/g)!.join("|")],
  [
    "HTML entities",
    (k) => [...k].map((ch) => `&#${ch.charCodeAt(0)};`).join(""),
  ],
  [
    "percent every character",
    (k) =>
      [...k].map((ch) =>
        "%" + ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")
      ).join(""),
  ],
  [
    "fullwidth",
    (k) =>
      [...k].map((ch) =>
        /[!-~]/.test(ch) ? String.fromCharCode(ch.charCodeAt(0) + 0xfee0) : ch
      ).join(""),
  ],
  [
    "\\u escapes",
    (k) =>
      [...k].map((ch) => "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0"))
        .join(""),
  ],
];

Deno.test("[hostile] an error that echoes the key in a lossless encoding is scrubbed before it is shown or stored", async (t) => {
  for (const [name, encode] of SPELLINGS) {
    await t.step(name, async () => {
      await using hostile = startHostileGemini({
        kind: "echo-in-error",
        status: 400,
        encode,
      });
      await using app = await appAgainst(hostile);
      const { page, api } = await validateBoth(app);
      const { batch, events, record } = await runOne(app);
      const manifest = await app.request(
        `/api/batches/${batch.id}/manifest.json`,
        { headers: { cookie: batch.cookie } },
      );
      const spelt = encode(TEST_KEY);
      const seen: [string, string][] = [
        ["validate page", page.body],
        ["validate API", api.body],
        ["run stream", JSON.stringify(events)],
        ["batch record", JSON.stringify(record)],
        ["manifest", await manifest.text()],
        ["database", await database(app)],
        ["log", app.logs.join("\n")],
      ];
      for (const [where, text] of seen) {
        assert.equal(text.includes(spelt), false, `${name} in the ${where}`);
        assert.equal(findKeyMaterial(text, TEST_KEY), undefined, where);
      }
      assert.match(api.body, /REDACTED/, "the echo was redacted, not lost");
    });
  }
});
