/**
 * [gemini] What BatchGen believes of a batch job answer: states in any
 * spelling Google or the SDK uses, int64 counts that arrive as strings and
 * are clamped, names checked, and the job's error scrubbed and short.
 */
import assert from "node:assert/strict";
import { Refusal } from "./files_wire.ts";
import { countOf, jobStateOf, MAX_COUNT, readJobInfo } from "./batch_wire.ts";
import { assertNoKey, KEY } from "./batch_test_helpers.ts";

Deno.test("[gemini] jobStateOf() maps Google's, the SDK's and odd spellings", () => {
  const cases: [unknown, string][] = [
    ["BATCH_STATE_PENDING", "pending"],
    ["BATCH_STATE_RUNNING", "running"],
    ["BATCH_STATE_SUCCEEDED", "succeeded"],
    ["BATCH_STATE_FAILED", "failed"],
    ["BATCH_STATE_CANCELLED", "cancelled"],
    ["BATCH_STATE_EXPIRED", "expired"],
    ["BATCH_STATE_UNSPECIFIED", "unknown"],
    ["JOB_STATE_QUEUED", "pending"],
    ["JOB_STATE_PENDING", "pending"],
    ["JOB_STATE_PAUSED", "pending"],
    ["JOB_STATE_RUNNING", "running"],
    ["JOB_STATE_UPDATING", "running"],
    ["JOB_STATE_CANCELLING", "running"],
    ["JOB_STATE_SUCCEEDED", "succeeded"],
    ["JOB_STATE_PARTIALLY_SUCCEEDED", "succeeded"],
    ["JOB_STATE_FAILED", "failed"],
    ["JOB_STATE_CANCELLED", "cancelled"],
    ["JOB_STATE_EXPIRED", "expired"],
    ["JOB_STATE_UNSPECIFIED", "unknown"],
    ["batch_state_succeeded", "succeeded"],
    [" Succeeded ", "succeeded"],
    ["BATCH_STATE_CANCELED", "cancelled"],
    ["job-state-canceling", "running"],
    ["STATE_EXPIRED", "expired"],
    ["running", "running"],
    ["BATCH_STATE_WEIRD", "unknown"],
    ["constructor", "unknown"],
    ["__proto__", "unknown"],
    ["", "unknown"],
    ["BATCH_STATE_" + "SUCCEEDED".repeat(10), "unknown"],
    [3, "unknown"],
    [null, "unknown"],
    [undefined, "unknown"],
    [{ state: "SUCCEEDED" }, "unknown"],
  ];
  for (const [wire, state] of cases) {
    assert.equal(jobStateOf(wire), state, JSON.stringify(wire));
  }
});

Deno.test("[gemini] countOf() parses int64 strings and never trusts absurd numbers", () => {
  const cases: [unknown, number][] = [
    ["12", 12],
    [12, 12],
    ["0012", 12],
    [" 7 ", 7],
    ["0", 0],
    [12.7, 12],
    ["12.5", 0],
    ["-3", 0],
    [-3, 0],
    ["1e9", 0],
    ["0x10", 0],
    ["twelve", 0],
    ["", 0],
    ["99999999999999999999", MAX_COUNT],
    ["999999999999999999999999", MAX_COUNT],
    [1e300, MAX_COUNT],
    [Infinity, 0],
    [NaN, 0],
    [null, 0],
    [undefined, 0],
    [true, 0],
    [["5"], 0],
    [String(MAX_COUNT + 1), MAX_COUNT],
  ];
  for (const [value, count] of cases) {
    assert.equal(countOf(value), count, JSON.stringify(value));
  }
});

Deno.test("[gemini] readJobInfo() reads an Operation with string counts", () => {
  const { job, inline } = readJobInfo({
    name: "batches/abc_123-x",
    metadata: {
      "@type":
        "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
      model: "models/gemini-3-pro-image",
      state: "BATCH_STATE_RUNNING",
      batchStats: {
        requestCount: "10",
        successfulRequestCount: "4",
        failedRequestCount: "1",
        pendingRequestCount: "5",
      },
    },
  }, KEY);
  assert.deepEqual(job, {
    name: "batches/abc_123-x",
    state: "running",
    requestCount: 10,
    succeeded: 4,
    failed: 1,
    pending: 5,
  });
  assert.equal(inline, undefined);
});

Deno.test("[gemini] readJobInfo() caps parts at the whole and clamps absurd counts", () => {
  const { job } = readJobInfo({
    name: "batches/a",
    metadata: {
      state: "BATCH_STATE_SUCCEEDED",
      batchStats: {
        requestCount: "3",
        successfulRequestCount: "900000000000",
        failedRequestCount: "-2",
        pendingRequestCount: "NaN",
      },
    },
  }, KEY);
  assert.deepEqual(
    [job.requestCount, job.succeeded, job.failed, job.pending],
    [3, 3, 0, 0],
  );
  const absurd = readJobInfo({
    name: "batches/b",
    batchStats: { requestCount: "1e400", successfulRequestCount: 1e12 },
  }, KEY).job;
  assert.deepEqual([absurd.requestCount, absurd.succeeded], [0, MAX_COUNT]);
});

Deno.test("[gemini] readJobInfo() reads the bare resource and both output forms", () => {
  const file = readJobInfo({
    name: "batches/f1",
    state: "JOB_STATE_SUCCEEDED",
    output: { responsesFile: "files/results-1" },
  }, KEY);
  assert.deepEqual(file.job.output, { responsesFile: "files/results-1" });
  assert.equal(file.job.state, "succeeded");
  assert.equal(file.inline, undefined);

  const entries = [{ response: {}, metadata: { key: "r1" } }];
  const forms: [unknown, unknown[]][] = [
    [{
      metadata: { output: { inlinedResponses: { inlinedResponses: entries } } },
    }, entries],
    [{ metadata: { output: { inlinedResponses: entries } } }, entries],
    // Only in `response` (Google duplicates it there when done).
    [{
      done: true,
      response: { inlinedResponses: { inlinedResponses: entries } },
    }, entries],
    // Proto3 JSON leaves an empty list out.
    [{ metadata: { output: { inlinedResponses: {} } } }, []],
  ];
  for (const [form, expected] of forms) {
    const read = readJobInfo({ name: "batches/i1", ...form as object }, KEY);
    assert.deepEqual(read.job.output, { inline: true });
    assert.deepEqual(read.inline, expected);
  }
});

Deno.test("[gemini] readJobInfo() refuses bad names and results files as malformed", () => {
  const bad: unknown[] = [
    {},
    null,
    "batches/x",
    { name: "batches/" },
    { name: "batches/../files/x" },
    { name: "batches/a?key=1" },
    { name: "batches/a/b" },
    { name: "files/abc" },
    { name: "batches/" + "a".repeat(129) },
    { name: 42 },
    { name: "batches/ok", metadata: { output: { responsesFile: "../x" } } },
    { name: "batches/ok", metadata: { output: { responsesFile: 7 } } },
    { name: "batches/ok", response: { responsesFile: "files/a/b" } },
  ];
  for (const body of bad) {
    assert.throws(
      () => readJobInfo(body, KEY),
      (error) => error instanceof Refusal && error.failure.kind === "malformed",
      JSON.stringify(body),
    );
  }
});

Deno.test("[gemini] readJobInfo() scrubs and shortens the job's error", () => {
  const { job } = readJobInfo({
    name: "batches/e1",
    metadata: { state: "BATCH_STATE_FAILED" },
    error: {
      code: 3,
      message: `Invalid API key: ${KEY}\n${"details ".repeat(100)}`,
    },
  }, KEY);
  assert.equal(job.state, "failed");
  assert.ok(job.error);
  assertNoKey(job.error);
  assert.ok(job.error.length <= 300, String(job.error.length));
  assert.ok(!job.error.includes("\n"));
  const bare = readJobInfo({
    name: "batches/e2",
    error: { status: "INTERNAL" },
  }, KEY);
  assert.match(bare.job.error ?? "", /INTERNAL/);
});
