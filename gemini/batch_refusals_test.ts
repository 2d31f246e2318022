/**
 * [gemini] What the Batch API client refuses: bad names and input before
 * any request, malformed answers, an inline answer over its bound (read no
 * further), HTTP errors (classified like files.ts, scrubbed of an echoed
 * key), no answer at all, and redirects, which are never followed.
 */
import assert from "node:assert/strict";
import { RequestTimeoutError } from "./errors.ts";
import {
  cancelBatchJob,
  createBatchJob,
  deleteBatchJob,
  getBatchJob,
  readResultsFile,
} from "./batches.ts";
import {
  assertNoKey,
  failureOf,
  googleError,
  jobAnswer,
  KEY,
  MODEL,
  rows,
  stub,
} from "./batch_test_helpers.ts";

Deno.test("[gemini] bad input is refused before any request", async () => {
  await using google = stub(() => jobAnswer("batches/x"));
  const base = { apiKey: KEY, baseUrl: google.url, displayName: "d" };
  const inputs: [string, Parameters<typeof createBatchJob>[0]][] = [
    ["a bad model", {
      ...base,
      model: "../files/x",
      input: { rows: rows(["a"]) },
    }],
    ["a bad file name", {
      ...base,
      model: MODEL,
      input: { fileName: "files/../x" },
    }],
    ["a file name with a query", {
      ...base,
      model: MODEL,
      input: { fileName: "files/a?key=1" },
    }],
    ["no rows", { ...base, model: MODEL, input: { rows: [] } }],
    ["a bad row key", {
      ...base,
      model: MODEL,
      input: { rows: [{ key: "a/b", request: {} }] },
    }],
    ["a repeated row key", {
      ...base,
      model: MODEL,
      input: { rows: [{ key: "k", request: {} }, { key: "k", request: {} }] },
    }],
    ["rows over 20 MB", {
      ...base,
      model: MODEL,
      input: { rows: rows(["x".repeat(20_000_001)]) },
    }],
    ["a plain-http base URL", {
      ...base,
      baseUrl: "http://example.com",
      model: MODEL,
      input: { rows: rows(["a"]) },
    }],
  ];
  for (const [name, input] of inputs) {
    assert.equal(
      failureOf(await createBatchJob(input)).kind,
      "invalid-request",
      name,
    );
  }
  const badNames = [
    "",
    "batches/",
    "batches/a/b",
    "batches/../files/x",
    "batches/a?key=1",
    "batches/a:cancel",
    "files/abc",
    `batches/${"a".repeat(129)}`,
  ];
  for (const name of badNames) {
    const call = { apiKey: KEY, baseUrl: google.url, name };
    assert.equal(
      failureOf(await getBatchJob(call)).kind,
      "invalid-request",
      name,
    );
    assert.equal(
      failureOf(await cancelBatchJob(call)).kind,
      "invalid-request",
      name,
    );
    assert.equal(await deleteBatchJob(call), false, name);
    // The same names as results files: files/ swapped in, batches/ kept out.
    const file = name.startsWith("files/")
      ? "batches/abc"
      : name.replace(/^batches\//, "files/");
    const read = await readResultsFile({
      ...call,
      name: file,
      onResult: async () => {},
    });
    assert.equal(failureOf(read).kind, "invalid-request", file);
  }
  assert.deepEqual(google.seen, [], "nothing was sent");
});

Deno.test("[gemini] getBatchJob() refuses malformed answers", async (t) => {
  const answers: [string, () => Response][] = [
    ["not JSON", () => new Response("<html>oops</html>")],
    [
      "no name",
      () => Response.json({ metadata: { state: "BATCH_STATE_RUNNING" } }),
    ],
    ["another job", () => jobAnswer("batches/other")],
    [
      "a bad results file",
      () =>
        jobAnswer("batches/j1", {
          output: { responsesFile: "https://evil/x" },
        }),
    ],
  ];
  for (const [name, answer] of answers) {
    await t.step(name, async () => {
      await using google = stub(answer);
      const failure = failureOf(
        await getBatchJob({
          apiKey: KEY,
          baseUrl: google.url,
          name: "batches/j1",
        }),
      );
      assert.equal(failure.kind, "malformed");
    });
  }
});

Deno.test("[gemini] an over-bound inline answer is a clear failure, read no further", async () => {
  let sentBytes = 0;
  await using google = stub(() => {
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    return new Response(
      new ReadableStream({
        pull(controller) {
          // 16 MB at most, so a client that reads on cannot hang the test.
          if (sent++ === 256) return controller.close();
          sentBytes += chunk.length;
          controller.enqueue(chunk);
        },
      }),
    );
  });
  const failure = failureOf(
    await getBatchJob({
      apiKey: KEY,
      baseUrl: google.url,
      name: "batches/big",
      maxAnswerBytes: 1024 * 1024,
    }),
  );
  assert.equal(failure.kind, "invalid-request");
  assert.match(failure.message, /over 1 MB .*inline.* file input/);
  assert.ok(sentBytes < 8 * 1024 * 1024, `read on: ${sentBytes}`);

  await using small = stub(() => jobAnswer("batches/ok"));
  const fits = await getBatchJob({
    apiKey: KEY,
    baseUrl: small.url,
    name: "batches/ok",
    maxAnswerBytes: 1024,
  });
  assert.ok(fits.ok, JSON.stringify(fits));
});

Deno.test("[gemini] HTTP errors are classified and scrubbed of an echoed key", async (t) => {
  const cases: [string, () => Response, string, number?][] = [
    [
      "invalid key, echoed",
      () =>
        googleError(
          400,
          "INVALID_ARGUMENT",
          `API key not valid. Invalid API key: ${KEY}`,
          [
            {
              "@type": "type.googleapis.com/google.rpc.ErrorInfo",
              reason: "API_KEY_INVALID",
            },
            {
              "@type": "type.googleapis.com/google.rpc.DebugInfo",
              detail: `Invalid API key: ${KEY}`,
            },
          ],
        ),
      "auth",
    ],
    [
      "leaked key",
      () =>
        googleError(
          403,
          "PERMISSION_DENIED",
          "Your API key was reported as leaked.",
        ),
      "auth",
    ],
    [
      "rate limit",
      () =>
        googleError(429, "RESOURCE_EXHAUSTED", "Slow down", [
          {
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            retryDelay: "7s",
          },
        ]),
      "rate-limited",
      7000,
    ],
    ["daily quota", () =>
      googleError(429, "RESOURCE_EXHAUSTED", "Quota", [
        {
          "@type": "type.googleapis.com/google.rpc.QuotaFailure",
          violations: [{ quotaId: "GenerateRequestsPerDayPerProjectPerModel" }],
        },
      ]), "quota"],
    [
      "overloaded",
      () =>
        googleError(503, "UNAVAILABLE", `The model is overloaded. key=${KEY}`),
      "server",
    ],
    [
      "not found",
      () => googleError(404, "NOT_FOUND", "Requested entity was not found."),
      "invalid-request",
    ],
  ];
  for (const [name, answer, kind, retryAfterMs] of cases) {
    await t.step(name, async () => {
      await using google = stub(answer);
      const call = { apiKey: KEY, baseUrl: google.url };
      const failures = [
        failureOf(
          await createBatchJob({
            ...call,
            model: MODEL,
            displayName: "d",
            input: { fileName: "files/a" },
          }),
        ),
        failureOf(await getBatchJob({ ...call, name: "batches/j1" })),
        failureOf(await cancelBatchJob({ ...call, name: "batches/j1" })),
        failureOf(
          await readResultsFile({
            ...call,
            name: "files/out",
            onResult: async () => {},
          }),
        ),
      ];
      for (const failure of failures) {
        assert.equal(failure.kind, kind);
        assert.equal(failure.retryAfterMs, retryAfterMs);
        assertNoKey(failure.message);
      }
    });
  }
});

Deno.test("[gemini] no answer: network failures and our own timeout", async () => {
  const google = stub(() => Response.json({}));
  const url = google.url;
  await google[Symbol.asyncDispose]();
  const failure = failureOf(
    await getBatchJob({ apiKey: KEY, baseUrl: url, name: "batches/j1" }),
  );
  assert.equal(failure.kind, "network");
  assertNoKey(failure.message);

  await using slow = stub(() =>
    new Promise<Response>((resolve) =>
      setTimeout(() => resolve(Response.json({})), 300)
    )
  );
  const controller = new AbortController();
  setTimeout(() => controller.abort(new RequestTimeoutError(50)), 50);
  const timedOut = failureOf(
    await getBatchJob({
      apiKey: KEY,
      baseUrl: slow.url,
      name: "batches/j1",
      signal: controller.signal,
    }),
  );
  assert.equal(timedOut.kind, "timeout");
});

Deno.test("[gemini] a redirect is refused, never followed with the key", async () => {
  await using elsewhere = stub(() => jobAnswer("batches/j1"));
  await using google = stub((url) =>
    new Response(null, {
      status: 302,
      headers: { location: `${elsewhere.url}${url.pathname}` },
    })
  );
  const call = { apiKey: KEY, baseUrl: google.url };
  const failures = [
    failureOf(
      await createBatchJob({
        ...call,
        model: MODEL,
        displayName: "d",
        input: { rows: rows(["a"]) },
      }),
    ),
    failureOf(await getBatchJob({ ...call, name: "batches/j1" })),
    failureOf(await cancelBatchJob({ ...call, name: "batches/j1" })),
    failureOf(
      await readResultsFile({
        ...call,
        name: "files/out",
        onResult: async () => {},
      }),
    ),
  ];
  for (const failure of failures) {
    assert.equal(failure.kind, "invalid-request");
    assert.match(failure.message, /redirect/);
  }
  assert.equal(await deleteBatchJob({ ...call, name: "batches/j1" }), false);
  assert.equal(google.seen.length, 5);
  assert.deepEqual(elsewhere.seen, [], "the redirect was followed");
});
