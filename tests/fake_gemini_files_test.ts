/**
 * The fake's Files API in Google's wire format (raw fetch, and the real
 * `@google/genai` uploader), and generateContent's checks and records of
 * the reference images it is sent.
 */
import assert from "node:assert/strict";
import { GoogleGenAI } from "@google/genai";
import {
  type FakeGemini,
  type FakeGeminiOptions,
  sha256Hex,
  startFakeGemini,
} from "./fake_gemini.ts";

const KEY = "AQ.files-test-key-0123456789abcdefghij";
const MODEL = "gemini-3.1-flash-lite-image";
const PNG = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3, 4, 5]);

interface GoogleError {
  error: { code: number; message: string; status: string };
}

function startHeaders(length: number, mimeType = "image/png") {
  return {
    "x-goog-api-key": KEY,
    "X-Goog-Upload-Protocol": "resumable",
    "X-Goog-Upload-Command": "start",
    "X-Goog-Upload-Header-Content-Length": String(length),
    "X-Goog-Upload-Header-Content-Type": mimeType,
    "Content-Type": "application/json",
  };
}

/** The two-step upload as raw requests; returns both answers. */
async function upload(
  fake: FakeGemini,
  bytes: Uint8Array<ArrayBuffer>,
  options: { announce?: number; key?: string } = {},
) {
  const start = await fetch(`${fake.url}/upload/v1beta/files`, {
    method: "POST",
    headers: startHeaders(options.announce ?? bytes.length),
    body: JSON.stringify({ file: { displayName: "ref.png" } }),
  });
  await start.body?.cancel();
  const uploadUrl = start.headers.get("x-goog-upload-url") ?? "";
  const final = await fetch(uploadUrl, {
    method: "POST",
    headers: {
      "x-goog-api-key": options.key ?? KEY,
      "X-Goog-Upload-Command": "upload, finalize",
      "X-Goog-Upload-Offset": "0",
    },
    body: bytes,
  });
  return { start, uploadUrl, final };
}

async function uploaded(fake: FakeGemini, bytes = PNG) {
  const { final } = await upload(fake, bytes);
  assert.equal(final.status, 200);
  return (await final.json()).file as Record<string, string>;
}

function call(fake: FakeGemini, path: string, init: RequestInit = {}) {
  return fetch(`${fake.url}${path}`, {
    ...init,
    headers: { "x-goog-api-key": KEY, ...init.headers },
  });
}

function generate(fake: FakeGemini, parts: unknown[]) {
  return call(fake, `/v1beta/models/${MODEL}:generateContent`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      contents: [{ role: "user", parts }],
      generationConfig: { responseModalities: ["IMAGE"] },
    }),
  });
}

function fake(options: FakeGeminiOptions = {}) {
  return startFakeGemini(options);
}

Deno.test("[fake files] a resumable upload answers Google's headers and File resource", async () => {
  await using gemini = fake();
  const { start, uploadUrl, final } = await upload(gemini, PNG);
  assert.equal(start.status, 200);
  assert.equal(start.headers.get("x-goog-upload-status"), "active");
  assert.match(
    uploadUrl,
    new RegExp(
      `^${gemini.url}/upload/v1beta/files\\?upload_id=[\\w-]+&upload_protocol=resumable$`,
    ),
  );
  assert.equal(final.headers.get("x-goog-upload-status"), "final");
  const { file } = await final.json();
  assert.match(file.name, /^files\/[a-z0-9]{12}$/);
  assert.equal(file.displayName, "ref.png");
  assert.equal(file.mimeType, "image/png");
  assert.equal(file.sizeBytes, String(PNG.length));
  assert.equal(file.state, "ACTIVE");
  assert.equal(file.source, "UPLOADED");
  assert.equal(file.uri, `${gemini.url}/v1beta/${file.name}`);
  assert.equal(
    file.sha256Hash,
    Uint8Array.fromHex(await sha256Hex(PNG)).toBase64(),
  );
  const hours = (Date.parse(file.expirationTime) -
    Date.parse(file.createTime)) / 3600_000;
  assert.equal(hours, 48);
  const chunk = gemini.requests.at(-1);
  assert.equal(chunk?.bodyBytes, PNG.length, "binary body recorded by size");
  assert.equal(chunk?.body, null);
  assert.deepEqual(gemini.files(), {
    uploaded: 1,
    deleted: 0,
    live: [file.name],
  });
});

Deno.test("[fake files] get, download, list and delete; an unknown id is Google's 403", async () => {
  await using gemini = fake();
  const file = await uploaded(gemini);
  const id = file.name!.slice("files/".length);
  const got = await call(gemini, `/v1beta/files/${id}`);
  assert.deepEqual(await got.json(), file);
  const download = await call(gemini, `/v1beta/files/${id}:download?alt=media`);
  assert.equal(download.headers.get("content-type"), "image/png");
  assert.deepEqual(await download.bytes(), PNG);
  const list = await (await call(gemini, "/v1beta/files")).json();
  assert.deepEqual(list.files.map((f: { name: string }) => f.name), [
    file.name,
  ]);
  const deleted = await call(gemini, `/v1beta/files/${id}`, {
    method: "DELETE",
  });
  assert.deepEqual([deleted.status, await deleted.json()], [200, {}]);
  for (const method of ["GET", "DELETE"]) {
    const gone = await call(gemini, `/v1beta/files/${id}`, { method });
    assert.equal(gone.status, 403);
    const body: GoogleError = await gone.json();
    assert.equal(body.error.status, "PERMISSION_DENIED");
    assert.equal(
      body.error.message,
      `You do not have permission to access the File ${id} or it may not exist.`,
    );
  }
  assert.deepEqual(await (await call(gemini, "/v1beta/files")).json(), {});
  assert.deepEqual(gemini.files(), { uploaded: 1, deleted: 1, live: [] });
});

Deno.test("[fake files] the list pages with pageToken", async () => {
  await using gemini = fake();
  const names = [];
  for (let i = 0; i < 3; i++) names.push((await uploaded(gemini)).name);
  const first = await (await call(gemini, "/v1beta/files?pageSize=2")).json();
  assert.equal(first.files.length, 2);
  const second = await (await call(
    gemini,
    `/v1beta/files?pageSize=2&pageToken=${first.nextPageToken}`,
  )).json();
  assert.equal(second.nextPageToken, undefined);
  assert.deepEqual(
    [...first.files, ...second.files].map((f: { name: string }) => f.name),
    names,
  );
  const bad = await call(gemini, "/v1beta/files?pageToken=nonsense");
  assert.equal(bad.status, 400);
  await bad.body?.cancel();
});

Deno.test("[fake files] missing upload headers and wrong byte counts are 400s", async (t) => {
  await using gemini = fake();
  const cases: [string, Record<string, string>][] = [
    ["no protocol", { "X-Goog-Upload-Protocol": "" }],
    ["multipart", { "X-Goog-Upload-Protocol": "multipart" }],
    ["no command", { "X-Goog-Upload-Command": "" }],
    ["no length", { "X-Goog-Upload-Header-Content-Length": "" }],
    ["no mime type", { "X-Goog-Upload-Header-Content-Type": "" }],
  ];
  for (const [name, override] of cases) {
    await t.step(name, async () => {
      const response = await fetch(`${gemini.url}/upload/v1beta/files`, {
        method: "POST",
        headers: { ...startHeaders(PNG.length), ...override },
        body: JSON.stringify({ file: { display_name: "x" } }),
      });
      assert.equal(response.status, 400);
      const body: GoogleError = await response.json();
      assert.equal(body.error.status, "INVALID_ARGUMENT");
      assert.equal(response.headers.get("x-goog-upload-url"), null);
    });
  }
  await t.step("fewer bytes than announced", async () => {
    const { final } = await upload(gemini, PNG, { announce: PNG.length + 1 });
    assert.equal(final.status, 400);
    const body: GoogleError = await final.json();
    assert.match(body.error.message, /Received 13 bytes .* announced 14/);
  });
  await t.step("an unknown upload id", async () => {
    const response = await call(
      gemini,
      "/upload/v1beta/files?upload_id=nope&upload_protocol=resumable",
      {
        method: "POST",
        headers: {
          "X-Goog-Upload-Command": "upload, finalize",
          "X-Goog-Upload-Offset": "0",
        },
        body: PNG,
      },
    );
    assert.equal(response.status, 404);
    await response.body?.cancel();
  });
  assert.deepEqual(gemini.files(), { uploaded: 0, deleted: 0, live: [] });
});

Deno.test("[fake files] every Files route wants the key, the upload URL included", async () => {
  await using gemini = fake();
  const file = await uploaded(gemini);
  const noKey = await fetch(`${gemini.url}/v1beta/${file.name}`);
  assert.equal(noKey.status, 403);
  assert.match((await noKey.json()).error.message, /unregistered callers/);
  const badKey = await fetch(`${gemini.url}/v1beta/files`, {
    headers: { "x-goog-api-key": "bad-key-123" },
  });
  assert.equal(badKey.status, 400);
  assert.equal((await badKey.json()).error.status, "INVALID_ARGUMENT");
  const { final } = await upload(gemini, PNG, { key: "" });
  assert.equal(final.status, 403, "the upload URL call without a key");
  await final.body?.cancel();
  assert.equal(gemini.files().uploaded, 1);
});

Deno.test("[fake files] the @google/genai uploader works against the fake", async () => {
  await using gemini = fake();
  const ai = new GoogleGenAI({
    apiKey: KEY,
    apiVersion: "v1beta",
    httpOptions: { baseUrl: gemini.url },
  });
  const file = await ai.files.upload({
    file: new Blob([PNG], { type: "image/png" }),
    config: { displayName: "sdk.png" },
  });
  assert.equal(file.displayName, "sdk.png");
  assert.equal(file.sizeBytes, String(PNG.length));
  const got = await ai.files.get({ name: file.name ?? "" });
  assert.equal(got.uri, file.uri);
  await ai.files.delete({ name: file.name ?? "" });
  assert.deepEqual(gemini.files(), { uploaded: 1, deleted: 1, live: [] });
  for (const request of gemini.requests) {
    assert.equal(request.headers["x-goog-api-key"], KEY, request.path);
  }
});

Deno.test("[fake files] generateContent records each reference image it receives", async () => {
  await using gemini = fake();
  const file = await uploaded(gemini);
  const hash = await sha256Hex(PNG);
  const inline = {
    inlineData: { mimeType: "image/png", data: PNG.toBase64() },
  };
  const byFile = { fileData: { mimeType: "image/png", fileUri: file.uri } };
  for (const parts of [[inline, { text: "a" }], [byFile, { text: "b" }]]) {
    const response = await generate(gemini, parts);
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  const generated = gemini.requests.filter((r) =>
    r.path.endsWith(":generateContent")
  );
  assert.deepEqual(generated.map((r) => r.inputImages), [
    [{ kind: "inline", sha256: hash, mimeType: "image/png" }],
    [{
      kind: "file",
      sha256: hash,
      mimeType: "image/png",
      fileName: file.name,
    }],
  ]);
  const textOnly = await generate(gemini, [{ text: "no reference" }]);
  await textOnly.body?.cancel();
  assert.deepEqual(gemini.requests.at(-1)?.inputImages, []);
});

Deno.test("[fake files] generateContent refuses dead files and broken base64 like Google", async () => {
  await using gemini = fake();
  const file = await uploaded(gemini);
  const id = file.name!.slice("files/".length);
  await (await call(gemini, `/v1beta/${file.name}`, { method: "DELETE" }))
    .body?.cancel();
  const dead = await generate(gemini, [
    { fileData: { mimeType: "image/png", fileUri: file.uri } },
    { text: "x" },
  ]);
  assert.equal(dead.status, 403);
  assert.equal(
    (await dead.json()).error.message,
    `You do not have permission to access the File ${id} or it may not exist.`,
  );
  const broken = await generate(gemini, [
    { text: "x" },
    { inlineData: { mimeType: "image/png", data: "not base64!" } },
  ]);
  assert.equal(broken.status, 400);
  const body: GoogleError = await broken.json();
  assert.equal(body.error.status, "INVALID_ARGUMENT");
  assert.match(
    body.error.message,
    /contents\[0\]\.parts\[1\]\.inline_data\.data.*Base64 decoding failed/,
  );
  assert.equal(gemini.stats().generate, 2);
});

Deno.test("[fake files] fileProcessingGets keeps a file PROCESSING, unusable, for that many GETs", async () => {
  await using gemini = fake({ fileProcessingGets: 2 });
  const file = await uploaded(gemini);
  assert.equal(file.state, "PROCESSING");
  const early = await generate(gemini, [
    { fileData: { mimeType: "image/png", fileUri: file.uri } },
  ]);
  assert.equal(early.status, 400);
  assert.equal((await early.json()).error.status, "FAILED_PRECONDITION");
  const states = [];
  for (let i = 0; i < 3; i++) {
    states.push(
      (await (await call(gemini, `/v1beta/${file.name}`)).json()).state,
    );
  }
  assert.deepEqual(states, ["PROCESSING", "PROCESSING", "ACTIVE"]);
  const later = await generate(gemini, [
    { fileData: { mimeType: "image/png", fileUri: file.uri } },
    { text: "now" },
  ]);
  assert.equal(later.status, 200);
  await later.body?.cancel();
});
