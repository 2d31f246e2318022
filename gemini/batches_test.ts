/**
 * [gemini] The Batch API client: jobs are created from inline rows or an
 * uploaded file with exactly the body Google documents, polled to their
 * results (inline, or a results file read again after a cut), cancelled and
 * deleted, with the key only in the header. What it refuses:
 * batch_refusals_test.ts.
 */
import assert from "node:assert/strict";
import { startFakeGemini } from "../tests/fake_gemini.ts";
import { decodeImage } from "./generate.ts";
import { fileReference, inlineReference } from "./parts.ts";
import {
  BATCH_INPUT_MIME_TYPE,
  batchInputJsonl,
  type BatchJobInfo,
  cancelBatchJob,
  createBatchJob,
  deleteBatchJob,
  getBatchJob,
  imageRequestBody,
  readResultsFile,
} from "./batches.ts";
import {
  assertKeyOnlyInHeader,
  type BatchResult,
  failureOf,
  googleError,
  jobAnswer,
  KEY,
  MODEL,
  rows,
  stub,
} from "./batch_test_helpers.ts";
import { uploadFile } from "./files.ts";

const PNG_MAGIC = [137, 80, 78, 71];

Deno.test("[gemini] imageRequestBody() matches the live request: images first, one candidate", () => {
  const png = new Uint8Array([1, 2, 3]);
  const file = {
    name: "files/r1",
    uri: "https://g/v1beta/files/r1",
    mimeType: "image/png",
  };
  const references = [inlineReference(png, "image/png"), fileReference(file)];
  const body = imageRequestBody({
    prompt: "a fox",
    aspectRatio: "16:9",
    imageSize: "2K",
    references,
  });
  assert.deepEqual(body, {
    contents: [{
      role: "user",
      parts: [
        { inlineData: { mimeType: "image/png", data: "AQID" } },
        { fileData: { mimeType: "image/png", fileUri: file.uri } },
        { text: "a fox" },
      ],
    }],
    generationConfig: {
      responseModalities: ["TEXT", "IMAGE"],
      candidateCount: 1,
      imageConfig: { aspectRatio: "16:9", imageSize: "2K" },
    },
  });
  const plain = imageRequestBody({
    prompt: "x",
    aspectRatio: "1:1",
    references: [],
  });
  assert.deepEqual(plain.generationConfig, {
    responseModalities: ["TEXT", "IMAGE"],
    candidateCount: 1,
    imageConfig: { aspectRatio: "1:1" },
  });
  assert.notEqual(
    (body.contents as { parts: unknown[] }[])[0]!.parts[0],
    references[0],
    "parts are copied",
  );
});

Deno.test("[gemini] batchInputJsonl() writes one {key, request} line per row", () => {
  const input = rows(["a fox", 'a "quoted"\nprompt']);
  const text = new TextDecoder().decode(batchInputJsonl(input));
  assert.ok(text.endsWith("\n"));
  const lines = text.trimEnd().split("\n");
  assert.equal(lines.length, 2, "a newline in a prompt stays escaped");
  assert.deepEqual(
    lines.map((l) => JSON.parse(l)),
    input.map((r) => ({ key: r.key, request: r.request })),
  );
  for (
    const bad of [[{ key: "", request: {} }], [{ key: "a b", request: {} }], [{
      key: "k",
      request: {},
    }, { key: "k", request: {} }]]
  ) {
    assert.throws(() => batchInputJsonl(bad), TypeError);
  }
});

Deno.test("[gemini] an inline job on the fake: the exact create body, then its results", async () => {
  await using fake = startFakeGemini();
  const input = rows([
    "a fox",
    "[block:IMAGE_SAFETY] a cat",
    "[status:429] a hare",
    "[status:500] an owl",
  ]);
  const created = await createBatchJob({
    apiKey: KEY,
    baseUrl: fake.url,
    model: MODEL,
    displayName: "job\n1",
    input: { rows: input },
  });
  assert.ok(created.ok, JSON.stringify(created));
  assert.match(created.job.name, /^batches\/[A-Za-z0-9_-]+$/);
  assert.equal(created.job.requestCount, 4);
  assert.ok(
    ["pending", "running"].includes(created.job.state),
    created.job.state,
  );
  const sent = fake.requests[0]!;
  assert.equal(sent.method, "POST");
  assert.equal(sent.path, `/v1beta/models/${MODEL}:batchGenerateContent`);
  assert.deepEqual(sent.body, {
    batch: {
      displayName: "job 1",
      inputConfig: {
        requests: {
          requests: input.map((r) => ({
            request: r.request,
            metadata: { key: r.key },
          })),
        },
      },
    },
  });

  let got = await getBatchJob({
    apiKey: KEY,
    baseUrl: fake.url,
    name: created.job.name,
  });
  for (let polls = 0; got.ok && !got.inlineResults && polls < 20; polls++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    got = await getBatchJob({
      apiKey: KEY,
      baseUrl: fake.url,
      name: created.job.name,
    });
  }
  assert.ok(got.ok, JSON.stringify(got));
  assert.equal(got.job.state, "succeeded");
  assert.deepEqual(got.job.output, { inline: true });
  assert.deepEqual([got.job.requestCount, got.job.succeeded, got.job.failed], [
    4,
    2,
    2,
  ]);
  assert.equal(got.skipped, 0);
  const byKey = new Map(got.inlineResults!.map((r) => [r.key, r.outcome]));
  const image = byKey.get("row-0");
  assert.ok(image?.ok, JSON.stringify(image));
  assert.deepEqual([...decodeImage(image.image).subarray(0, 4)], PNG_MAGIC);
  assert.ok(image.usage && image.usage.imageTokens > 0);
  const kinds = ["row-1", "row-2", "row-3"].map((k) => {
    const outcome = byKey.get(k);
    return outcome && !outcome.ok ? outcome.failure.kind : "ok";
  });
  assert.deepEqual(kinds, ["blocked", "rate-limited", "server"]);
  assertKeyOnlyInHeader(fake.requests);
});

Deno.test("[gemini] createBatchJob() sends a file input as inputConfig.fileName", async () => {
  await using google = stub(() => jobAnswer("batches/f1"));
  const created = await createBatchJob({
    apiKey: KEY,
    baseUrl: google.url,
    model: `models/${MODEL}`,
    displayName: "from a file",
    input: { fileName: "files/in-1" },
  });
  assert.ok(created.ok, JSON.stringify(created));
  assert.deepEqual(created.job, {
    name: "batches/f1",
    state: "pending",
    requestCount: 1,
    succeeded: 0,
    failed: 0,
    pending: 0,
  });
  const [sent] = google.seen;
  assert.equal(sent?.path, `/v1beta/models/${MODEL}:batchGenerateContent`);
  assert.equal(sent?.contentType, "application/json");
  assert.deepEqual(JSON.parse(sent!.body), {
    batch: {
      displayName: "from a file",
      inputConfig: { fileName: "files/in-1" },
    },
  });
  assertKeyOnlyInHeader(google.seen);
});

Deno.test("[gemini] getBatchJob() reads a results-file job", async () => {
  await using google = stub(() =>
    Response.json({
      name: "batches/j1",
      metadata: {
        state: "JOB_STATE_SUCCEEDED",
        batchStats: { requestCount: "2", successfulRequestCount: "2" },
        output: { responsesFile: "files/out-1" },
      },
      done: true,
      response: { responsesFile: "files/out-1" },
    })
  );
  const got = await getBatchJob({
    apiKey: KEY,
    baseUrl: google.url,
    name: "batches/j1",
  });
  assert.ok(got.ok, JSON.stringify(got));
  assert.deepEqual(got.job.output, { responsesFile: "files/out-1" });
  assert.equal(got.inlineResults, undefined);
  assert.deepEqual(google.seen.map((s) => [s.method, s.path, s.search]), [[
    "GET",
    "/v1beta/batches/j1",
    "",
  ]]);
});

Deno.test("[gemini] cancelBatchJob() and deleteBatchJob() call the job's own URL", async () => {
  await using google = stub((url, seen) =>
    seen.method === "DELETE" && url.pathname.endsWith("/gone")
      ? googleError(404, "NOT_FOUND", "Requested entity was not found.")
      : Response.json({})
  );
  const call = { apiKey: KEY, baseUrl: google.url };
  assert.deepEqual(await cancelBatchJob({ ...call, name: "batches/j1" }), {
    ok: true,
  });
  assert.equal(await deleteBatchJob({ ...call, name: "batches/j1" }), true);
  assert.equal(await deleteBatchJob({ ...call, name: "batches/gone" }), false);
  assert.deepEqual(google.seen.map((s) => [s.method, s.path + s.search]), [
    ["POST", "/v1beta/batches/j1:cancel"],
    ["DELETE", "/v1beta/batches/j1"],
    ["DELETE", "/v1beta/batches/gone"],
  ]);
  assertKeyOnlyInHeader(google.seen);
});

Deno.test("[gemini] a file-input job on the fake: results file cut once, then read again", async () => {
  await using fake = startFakeGemini({
    batch: { getsPerState: 1, downloadFailOnce: "cut" },
  });
  const input = rows([
    "a fox",
    "a hare",
    "[status:503] an owl",
    "a cat",
    "a dog",
    "a yak",
  ]);
  const uploaded = await uploadFile({
    apiKey: KEY,
    baseUrl: fake.url,
    bytes: batchInputJsonl(input),
    mimeType: BATCH_INPUT_MIME_TYPE,
    displayName: "input.jsonl",
  });
  assert.ok(uploaded.ok, JSON.stringify(uploaded));
  const call = { apiKey: KEY, baseUrl: fake.url };
  const created = await createBatchJob({
    ...call,
    model: MODEL,
    displayName: "file job",
    input: { fileName: uploaded.file.name },
  });
  assert.ok(created.ok, JSON.stringify(created));
  const states: string[] = [];
  let output: BatchJobInfo["output"];
  for (let polls = 0; !output && polls < 10; polls++) {
    const got = await getBatchJob({ ...call, name: created.job.name });
    assert.ok(got.ok, JSON.stringify(got));
    assert.equal(got.inlineResults, undefined);
    states.push(got.job.state);
    output = got.job.output;
  }
  assert.deepEqual(states, ["pending", "running", "succeeded"]);
  assert.ok(output && "responsesFile" in output, JSON.stringify(output));

  // The first download is cut midway: what came whole is delivered once.
  const seen = new Map<string, BatchResult["outcome"]>();
  const read = () =>
    readResultsFile({
      ...call,
      name: output.responsesFile,
      onResult: (r) => {
        seen.set(r.key, r.outcome);
        return Promise.resolve();
      },
    });
  const cut = failureOf(await read());
  assert.equal(cut.kind, "network");
  assert.ok(seen.size > 0 && seen.size < input.length, String(seen.size));
  assert.deepEqual(await read(), { ok: true, count: input.length, skipped: 0 });
  assert.deepEqual([...seen.keys()].sort(), input.map((r) => r.key).sort());
  const owl = seen.get("row-2");
  assert.equal(owl && !owl.ok && owl.failure.kind, "server");
  assert.equal([...seen.values()].filter((o) => o.ok).length, 5);

  assert.equal(
    failureOf(await cancelBatchJob({ ...call, name: created.job.name })).kind,
    "invalid-request",
    "a finished job",
  );
  assert.equal(await deleteBatchJob({ ...call, name: created.job.name }), true);
  assertKeyOnlyInHeader(fake.requests);
});
