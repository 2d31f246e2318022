/**
 * The fake's Batch API in Google's wire format (gemini-api.md §2.6): inline
 * and JSONL-file jobs, scripted states and final states, per-row errors,
 * cancel, delete, list, the results download fault and the key; raw fetch
 * for the shapes, `@google/genai` to show the SDK reads them.
 */
import assert from "node:assert/strict";
import { GoogleGenAI } from "@google/genai";
import {
  type FakeGemini,
  type FakeGeminiOptions,
  startFakeGemini,
} from "./fake_gemini.ts";

const KEY = "AQ.batch-test-key-0123456789abcdefghij";
const MODEL = "gemini-3.1-flash-lite-image";
const BATCH_TYPE =
  "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch";
const OUTPUT_TYPE =
  "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput";

// deno-lint-ignore no-explicit-any
type Json = any;

function call(
  fake: FakeGemini,
  path: string,
  init: RequestInit & { key?: string | null } = {},
) {
  const headers = new Headers(init.headers);
  if (init.key !== null) headers.set("x-goog-api-key", init.key ?? KEY);
  return fetch(`${fake.url}${path}`, { ...init, headers });
}

async function json(
  fake: FakeGemini,
  path: string,
  init: RequestInit & { key?: string | null } = {},
): Promise<{ status: number; body: Json }> {
  const response = await call(fake, path, init);
  return { status: response.status, body: await response.json() };
}

/** A GenerateContentRequest for one image. */
function imageRequest(prompt: string, parts: unknown[] = []) {
  return {
    contents: [{ role: "user", parts: [{ text: prompt }, ...parts] }],
    generationConfig: {
      responseModalities: ["IMAGE"],
      imageConfig: { aspectRatio: "1:1" },
    },
  };
}

function inlineBatch(displayName: string, prompts: string[]) {
  return {
    batch: {
      displayName,
      inputConfig: {
        requests: {
          requests: prompts.map((prompt, i) => ({
            request: imageRequest(prompt),
            metadata: { key: `row-${i + 1}` },
          })),
        },
      },
    },
  };
}

function create(fake: FakeGemini, body: unknown, model = MODEL) {
  return json(fake, `/v1beta/models/${model}:batchGenerateContent`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function createInline(fake: FakeGemini, prompts: string[], name = "j") {
  const { status, body } = await create(fake, inlineBatch(name, prompts));
  assert.equal(status, 200, JSON.stringify(body));
  return body.name as string;
}

async function getJob(fake: FakeGemini, name: string) {
  const { status, body } = await json(fake, `/v1beta/${name}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

/** Uploads text through the resumable protocol; returns "files/<id>". */
async function uploadText(fake: FakeGemini, text: string): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  const start = await call(fake, "/upload/v1beta/files", {
    method: "POST",
    headers: {
      "X-Goog-Upload-Protocol": "resumable",
      "X-Goog-Upload-Command": "start",
      "X-Goog-Upload-Header-Content-Length": String(bytes.length),
      "X-Goog-Upload-Header-Content-Type": "application/jsonl",
      "content-type": "application/json",
    },
    body: JSON.stringify({ file: { displayName: "input.jsonl" } }),
  });
  await start.body?.cancel();
  const final = await fetch(start.headers.get("x-goog-upload-url") ?? "", {
    method: "POST",
    headers: {
      "x-goog-api-key": KEY,
      "X-Goog-Upload-Command": "upload, finalize",
      "X-Goog-Upload-Offset": "0",
    },
    body: bytes,
  });
  return (await final.json()).file.name;
}

function jsonl(rows: { key: string; prompt: string }[], extra: string[] = []) {
  const lines = rows.map(({ key, prompt }) =>
    JSON.stringify({ key, request: imageRequest(prompt) })
  );
  return [...lines, ...extra].join("\n") + "\n";
}

async function download(fake: FakeGemini, fileName: string) {
  const response = await call(fake, `/v1beta/${fileName}:download?alt=media`);
  assert.equal(response.status, 200);
  const text = await response.text();
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

function fake(options: FakeGeminiOptions = {}) {
  return startFakeGemini(options);
}

Deno.test("[fake batches] inline jobs go PENDING, RUNNING, SUCCEEDED with keyed output", async () => {
  await using gemini = fake({ batch: { getsPerState: 1 } });
  const created = await create(
    gemini,
    inlineBatch("two rows", [
      "a cat",
      "x [block:IMAGE_SAFETY]",
      "y [status:500]",
    ]),
  );
  assert.equal(created.status, 200);
  const { name, metadata } = created.body;
  assert.match(name, /^batches\/[a-z0-9]{36}$/);
  assert.equal(created.body.done, undefined);
  assert.deepEqual(
    { ...metadata, createTime: 0, updateTime: 0 },
    {
      "@type": BATCH_TYPE,
      model: `models/${MODEL}`,
      displayName: "two rows",
      createTime: 0,
      updateTime: 0,
      batchStats: { requestCount: "3", pendingRequestCount: "3" },
      state: "BATCH_STATE_PENDING",
      name,
    },
  );
  assert.equal(
    (await getJob(gemini, name)).metadata.state,
    "BATCH_STATE_PENDING",
  );
  assert.equal(
    (await getJob(gemini, name)).metadata.state,
    "BATCH_STATE_RUNNING",
  );
  const done = await getJob(gemini, name);
  assert.equal(done.done, true);
  assert.equal(done.metadata.state, "BATCH_STATE_SUCCEEDED");
  assert.ok(done.metadata.endTime);
  assert.deepEqual(done.metadata.batchStats, {
    requestCount: "3",
    successfulRequestCount: "2",
    failedRequestCount: "1",
  });
  const rows = done.metadata.output.inlinedResponses.inlinedResponses;
  assert.deepEqual(rows.map((r: Json) => r.metadata), [
    { key: "row-1" },
    { key: "row-2" },
    { key: "row-3" },
  ]);
  const parts = rows[0].response.candidates[0].content.parts;
  assert.ok(parts.some((p: Json) => p.inlineData && !p.thought));
  // Billing: each response carries usageMetadata like generateContent's.
  assert.ok(rows[0].response.usageMetadata.candidatesTokenCount > 0);
  assert.equal(rows[1].response.candidates[0].finishReason, "IMAGE_SAFETY");
  // google.rpc.Status: the gRPC code (13 INTERNAL), not HTTP 500.
  assert.equal(rows[2].error.code, 13);
  assert.match(rows[2].error.message, /internal error/);
  assert.equal(rows[2].response, undefined);
  assert.deepEqual(done.response, {
    "@type": OUTPUT_TYPE,
    ...done.metadata.output,
  });
  // Repeated GETs answer the same results; rows are not generateContent calls.
  assert.deepEqual(
    (await getJob(gemini, name)).metadata.output,
    done.metadata.output,
  );
  assert.equal(gemini.stats().generate, 0);
  assert.deepEqual(gemini.batchJobs(), [{
    name,
    state: "BATCH_STATE_SUCCEEDED",
    displayName: "two rows",
    model: MODEL,
    requestCount: 3,
    inputKind: "inline",
    rows: [
      { key: "row-1", inputImages: [] },
      { key: "row-2", inputImages: [] },
      { key: "row-3", inputImages: [] },
    ],
    gets: 4,
    deleted: false,
  }]);
});

Deno.test("[fake batches] file jobs read JSONL and write a results file", async () => {
  await using gemini = fake();
  const input = await uploadText(
    gemini,
    jsonl(
      [{ key: "a", prompt: "a dog" }, { key: "b", prompt: "[status:503]" }],
      [
        "{not json",
        JSON.stringify({ key: "c" }),
        "",
      ],
    ),
  );
  const created = await create(gemini, {
    batch: { displayName: "file job", inputConfig: { fileName: input } },
  });
  assert.equal(created.status, 200);
  assert.deepEqual(created.body.metadata.inputConfig, { fileName: input });
  assert.equal(created.body.metadata.batchStats.requestCount, "4");
  const done = await getJob(gemini, created.body.name);
  const id = created.body.name.slice("batches/".length);
  assert.deepEqual(done.metadata.output, {
    responsesFile: `files/batch-${id}`,
  });
  assert.deepEqual(done.response, {
    "@type": OUTPUT_TYPE,
    responsesFile: `files/batch-${id}`,
  });
  assert.deepEqual(done.metadata.batchStats, {
    requestCount: "4",
    successfulRequestCount: "1",
    failedRequestCount: "3",
  });
  const lines = await download(gemini, `files/batch-${id}`);
  assert.deepEqual(lines.map((l: Json) => l.key), ["a", "b", undefined, "c"]);
  assert.ok(lines[0].response.candidates[0].content.parts.length > 0);
  assert.deepEqual(lines[1].error, {
    code: 14,
    message: "The model is overloaded. Please try again later.",
  });
  assert.equal(lines[2].error.code, 3);
  assert.match(lines[3].error.message, /no 'request'/);
  // Google's results file ids are 42 characters: only :download reaches them.
  for (const method of ["GET", "DELETE"]) {
    const meta = await json(gemini, `/v1beta/files/batch-${id}`, { method });
    assert.equal(meta.status, 400);
    assert.match(meta.body.error.message, /cannot be more than 40 characters/);
  }
  assert.deepEqual(gemini.files().live, [input, `files/batch-${id}`]);
  const [job] = gemini.batchJobs();
  assert.equal(job?.inputKind, "file");
  assert.equal(job?.inputFile, input);
  assert.equal(job?.responsesFile, `files/batch-${id}`);
});

Deno.test("[fake batches] create refuses what Google refuses", async (t) => {
  await using gemini = fake();
  const refuse = async (
    body: unknown,
    status: number,
    pattern: RegExp,
    model = MODEL,
  ) => {
    const answer = await create(gemini, body, model);
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.equal(answer.body.error.code, status);
    assert.match(answer.body.error.message, pattern);
    return answer.body.error;
  };
  await t.step("unknown model: 404", async () => {
    await refuse(inlineBatch("j", ["a"]), 404, /not found/, "no-such-model");
  });
  await t.step("no input: 400", async () => {
    await refuse({ batch: { displayName: "j" } }, 400, /input_config/);
  });
  await t.step("no displayName: 400", async () => {
    const body = inlineBatch("", ["a"]);
    await refuse(body, 400, /display_name/);
  });
  await t.step("no requests: 400", async () => {
    await refuse(inlineBatch("j", []), 400, /requests is empty/);
  });
  await t.step("both sources: 400", async () => {
    const body = inlineBatch("j", ["a"]);
    Object.assign(body.batch.inputConfig, { fileName: "files/x" });
    await refuse(body, 400, /Oneof/);
  });
  await t.step("unknown file: Google's 403", async () => {
    const error = await refuse(
      { batch: { displayName: "j", inputConfig: { fileName: "files/nope" } } },
      403,
      /permission to access the File nope/,
    );
    assert.equal(error.status, "PERMISSION_DENIED");
  });
  assert.deepEqual(gemini.batchJobs(), []);
});

Deno.test("[fake batches] finalState FAILED has error and no output", async () => {
  await using gemini = fake({ batch: { finalState: "FAILED" } });
  const name = await createInline(gemini, ["a", "b"]);
  const done = await getJob(gemini, name);
  assert.equal(done.done, true);
  assert.equal(done.metadata.state, "BATCH_STATE_FAILED");
  assert.deepEqual(done.error, { code: 13, message: "Batch job failed." });
  assert.equal(done.metadata.output, undefined);
  assert.equal(done.response, undefined);
});

Deno.test("[fake batches] EXPIRED and CANCELLED keep the first half of the rows", async (t) => {
  for (const finalState of ["EXPIRED", "CANCELLED"] as const) {
    await t.step(`${finalState}, inline`, async () => {
      await using gemini = fake({ batch: { finalState } });
      const name = await createInline(gemini, ["a", "b", "c", "d", "e"]);
      const done = await getJob(gemini, name);
      assert.equal(done.metadata.state, `BATCH_STATE_${finalState}`);
      assert.equal(done.done, true);
      const rows = done.metadata.output.inlinedResponses.inlinedResponses;
      assert.deepEqual(rows.map((r: Json) => r.metadata.key), [
        "row-1",
        "row-2",
      ]);
      assert.deepEqual(done.metadata.batchStats, {
        requestCount: "5",
        successfulRequestCount: "2",
        pendingRequestCount: "3",
      });
    });
    await t.step(`${finalState}, file`, async () => {
      await using gemini = fake({ batch: { finalState } });
      const rows = ["a", "b", "c", "d"].map((key) => ({ key, prompt: key }));
      const input = await uploadText(gemini, jsonl(rows));
      const created = await create(gemini, {
        batch: { displayName: "f", inputConfig: { fileName: input } },
      });
      const done = await getJob(gemini, created.body.name);
      const lines = await download(gemini, done.metadata.output.responsesFile);
      assert.deepEqual(lines.map((l: Json) => l.key), ["a", "b"]);
    });
  }
  await t.step("a one-row job that stops early has no output", async () => {
    await using gemini = fake({ batch: { finalState: "EXPIRED" } });
    const done = await getJob(gemini, await createInline(gemini, ["a"]));
    assert.equal(done.done, true);
    assert.equal(done.metadata.output, undefined);
    assert.equal(done.response, undefined);
  });
});

Deno.test("[fake batches] job markers in a row or the displayName pick the end", async () => {
  await using gemini = fake();
  const failed = await createInline(gemini, ["a", "b [batch:fail]"]);
  const expired = await createInline(gemini, ["a", "b"], "n [batch:expire]");
  const cancelled = await createInline(gemini, ["a", "b", "[batch:cancel]"]);
  const plain = await createInline(gemini, ["a"]);
  const state = async (name: string) =>
    (await getJob(gemini, name)).metadata.state;
  assert.equal(await state(failed), "BATCH_STATE_FAILED");
  assert.equal(await state(expired), "BATCH_STATE_EXPIRED");
  assert.equal(await state(cancelled), "BATCH_STATE_CANCELLED");
  assert.equal(await state(plain), "BATCH_STATE_SUCCEEDED");
});

Deno.test("[fake batches] [batch:too-large] makes GETs of the done job 503", async () => {
  await using gemini = fake();
  const name = await createInline(gemini, ["big [batch:too-large]"]);
  const answer = await json(gemini, `/v1beta/${name}`);
  assert.equal(answer.status, 503);
  assert.equal(answer.body.error.status, "UNAVAILABLE");
  assert.equal(gemini.batchJobs()[0]?.state, "BATCH_STATE_SUCCEEDED");
});

Deno.test("[fake batches] cancel answers {} and the job ends CANCELLED", async () => {
  await using gemini = fake({ batch: { getsPerState: 2 } });
  const name = await createInline(gemini, ["a", "b", "c", "d"]);
  assert.equal(
    (await getJob(gemini, name)).metadata.state,
    "BATCH_STATE_PENDING",
  );
  const cancel = await json(gemini, `/v1beta/${name}:cancel`, {
    method: "POST",
  });
  assert.deepEqual(cancel, { status: 200, body: {} });
  const done = await getJob(gemini, name);
  assert.equal(done.metadata.state, "BATCH_STATE_CANCELLED");
  assert.equal(done.done, true);
  assert.equal(
    done.metadata.output.inlinedResponses.inlinedResponses.length,
    2,
  );
  const again = await json(gemini, `/v1beta/${name}:cancel`, {
    method: "POST",
  });
  assert.equal(again.status, 400);
  assert.equal(again.body.error.status, "FAILED_PRECONDITION");
  const unknown = await json(gemini, "/v1beta/batches/nope:cancel", {
    method: "POST",
  });
  assert.equal(unknown.status, 404);
});

Deno.test("[fake batches] delete answers {} and the job is gone", async () => {
  await using gemini = fake();
  const name = await createInline(gemini, ["a"]);
  const deleted = await json(gemini, `/v1beta/${name}`, { method: "DELETE" });
  assert.deepEqual(deleted, { status: 200, body: {} });
  const after = await json(gemini, `/v1beta/${name}`);
  assert.equal(after.status, 404);
  assert.equal(after.body.error.status, "NOT_FOUND");
  assert.equal(
    (await json(gemini, `/v1beta/${name}`, { method: "DELETE" })).status,
    404,
  );
  assert.deepEqual((await json(gemini, "/v1beta/batches")).body, {});
  assert.equal(gemini.batchJobs()[0]?.deleted, true);
});

Deno.test("[fake batches] the list pages newest first under `operations` and moves nothing", async () => {
  await using gemini = fake({ batch: { getsPerState: 1 } });
  const names = [];
  for (const n of ["one", "two", "three"]) {
    names.push(await createInline(gemini, ["a"], n));
  }
  const first = await json(gemini, "/v1/batches?pageSize=2");
  assert.equal(first.status, 200);
  assert.deepEqual(
    first.body.operations.map((o: Json) => o.metadata.displayName),
    ["three", "two"],
  );
  assert.equal(first.body.operations[0].metadata.state, "BATCH_STATE_PENDING");
  const token = first.body.nextPageToken;
  assert.equal(typeof token, "string");
  const second = await json(
    gemini,
    `/v1/batches?pageSize=2&pageToken=${token}`,
  );
  assert.deepEqual(second.body.operations.map((o: Json) => o.name), [names[0]]);
  assert.equal(second.body.nextPageToken, undefined);
  assert.equal((await json(gemini, "/v1/batches?pageToken=zzz")).status, 400);
  assert.ok(gemini.batchJobs().every((job) => job.gets === 0));
});

Deno.test("[fake batches] downloadFailOnce cuts or 503s a results file's first download", async (t) => {
  for (const fault of ["cut", "503"] as const) {
    await t.step(fault, async () => {
      await using gemini = fake({ batch: { downloadFailOnce: fault } });
      const rows = ["a", "b"].map((key) => ({ key, prompt: key }));
      const input = await uploadText(gemini, jsonl(rows));
      // Uploaded files are not results files: no fault for them.
      await download(gemini, input);
      const created = await create(gemini, {
        batch: { displayName: "f", inputConfig: { fileName: input } },
      });
      const file = (await getJob(gemini, created.body.name)).metadata.output
        .responsesFile;
      const first = await call(gemini, `/v1beta/${file}:download?alt=media`);
      if (fault === "503") {
        assert.equal(first.status, 503);
        assert.equal((await first.json()).error.status, "UNAVAILABLE");
      } else {
        assert.equal(first.status, 200);
        const announced = Number(first.headers.get("content-length"));
        let received = 0;
        await assert.rejects(async () => {
          for await (const chunk of first.body!) received += chunk.length;
        });
        assert.equal(received, Math.floor(announced / 2));
      }
      const lines = await download(gemini, file);
      assert.deepEqual(lines.map((l: Json) => l.key), ["a", "b"]);
    });
  }
});

Deno.test("[fake batches] every Batch route and the results download want the key", async () => {
  await using gemini = fake();
  const name = await createInline(gemini, ["a"]);
  const routes: [string, string][] = [
    ["POST", `/v1beta/models/${MODEL}:batchGenerateContent`],
    ["GET", `/v1beta/${name}`],
    ["GET", "/v1beta/batches"],
    ["POST", `/v1beta/${name}:cancel`],
    ["DELETE", `/v1beta/${name}`],
    ["GET", "/v1beta/files/batch-x:download?alt=media"],
  ];
  for (const [method, path] of routes) {
    const body = method === "POST"
      ? JSON.stringify(inlineBatch("j", ["a"]))
      : undefined;
    const missing = await json(gemini, path, { method, body, key: null });
    assert.equal(missing.status, 403, `${method} ${path}`);
    assert.match(missing.body.error.message, /unregistered callers/);
    const bad = await json(gemini, path, { method, body, key: "bad-key" });
    assert.equal(bad.status, 400, `${method} ${path}`);
  }
  assert.equal(gemini.batchJobs().length, 1);
  assert.equal(gemini.batchJobs()[0]?.gets, 0);
});

Deno.test("[fake batches] rows check reference files and share fail-once counts", async () => {
  await using gemini = fake();
  const ref = await uploadText(gemini, "not really a png");
  const fileRef = (name: string) => ({
    fileData: {
      fileUri: `${gemini.url}/v1beta/${name}`,
      mimeType: "image/png",
    },
  });
  const body = {
    batch: {
      displayName: "refs",
      inputConfig: {
        requests: {
          requests: [
            {
              request: imageRequest("live", [fileRef(ref)]),
              metadata: { key: "live" },
            },
            {
              request: imageRequest("dead", [fileRef("files/gone")]),
              metadata: { key: "dead" },
            },
            {
              request: imageRequest("flaky [fail-once:429]"),
              metadata: { key: "flaky" },
            },
          ],
        },
      },
    },
  };
  const first = await create(gemini, body);
  const done = await getJob(gemini, first.body.name);
  const rows = done.metadata.output.inlinedResponses.inlinedResponses;
  assert.ok(rows[0].response);
  assert.equal(rows[1].error.code, 7);
  assert.equal(rows[2].error.code, 8);
  const recorded = gemini.batchJobs()[0]?.rows ?? [];
  assert.equal(recorded[0]?.inputImages?.[0]?.fileName, ref);
  const second = await create(gemini, body);
  const retried = await getJob(gemini, second.body.name);
  assert.ok(
    retried.metadata.output.inlinedResponses.inlinedResponses[2].response,
  );
});

Deno.test("[fake batches] @google/genai creates, reads, lists, cancels and deletes jobs", async () => {
  await using gemini = fake({ batch: { getsPerState: 1 } });
  const ai = new GoogleGenAI({
    apiKey: KEY,
    httpOptions: { baseUrl: gemini.url },
  });
  const input = await uploadText(
    gemini,
    jsonl([{ key: "k1", prompt: "a cat" }]),
  );
  const job = await ai.batches.create({
    model: MODEL,
    src: input,
    config: { displayName: "sdk" },
  });
  assert.equal(job.state, "JOB_STATE_PENDING");
  const name = job.name ?? "";
  assert.equal((await ai.batches.get({ name })).state, "JOB_STATE_PENDING");
  assert.equal((await ai.batches.get({ name })).state, "JOB_STATE_RUNNING");
  const done = await ai.batches.get({ name });
  assert.equal(done.state, "JOB_STATE_SUCCEEDED");
  assert.equal(done.dest?.fileName, `files/batch-${name.slice(8)}`);
  const other = await ai.batches.create({
    model: MODEL,
    src: [{ contents: [{ role: "user", parts: [{ text: "x" }] }] }],
    config: { displayName: "other" },
  });
  const pager = await ai.batches.list({ config: { pageSize: 10 } });
  assert.deepEqual(pager.page.map((j) => j.displayName), ["other", "sdk"]);
  await ai.batches.cancel({ name: other.name ?? "" });
  const cancelled = await ai.batches.get({ name: other.name ?? "" });
  assert.equal(cancelled.state, "JOB_STATE_CANCELLED");
  await ai.batches.delete({ name });
  assert.deepEqual(gemini.batchJobs().map((j) => j.deleted), [true, false]);
});
