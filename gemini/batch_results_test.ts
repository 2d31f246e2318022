/**
 * [gemini] Batch results, inline or from a results file: each becomes an
 * outcome like a live answer would; results without a usable key are
 * skipped and counted; a results file streams line by line with memory near
 * one line, and a download cut midway delivers every complete line before
 * the cut, then fails as "network" so the caller can read it again.
 */
import assert from "node:assert/strict";
import { startFakeGemini } from "../tests/fake_gemini.ts";
import { createScrubber } from "../core/scrub.ts";
import { deleteFile, uploadFile } from "./files.ts";
import { splitLines } from "./batch_lines.ts";
import {
  type BatchResult,
  inlineResults,
  readResultsFile,
  readResultStream,
  resultOf,
} from "./batch_results.ts";
import { BATCH_INPUT_MIME_TYPE } from "./batches.ts";
import {
  assertKeyOnlyInHeader,
  assertNoKey,
  failureOf,
  KEY,
} from "./batch_test_helpers.ts";

const encoder = new TextEncoder();

/** A generateContent answer with one final image of `data`. */
function imageResponse(data = "iVBORw0KGgo=") {
  return {
    candidates: [{
      content: {
        role: "model",
        parts: [{ inlineData: { mimeType: "image/png", data } }],
      },
      finishReason: "STOP",
    }],
    usageMetadata: {
      promptTokenCount: 5,
      candidatesTokenCount: 1120,
      candidatesTokensDetails: [{ modality: "IMAGE", tokenCount: 1120 }],
    },
  };
}

function line(key: string, data?: string): string {
  return JSON.stringify({ key, response: imageResponse(data) }) + "\n";
}

/** An onResult that keeps what it is given. */
function pushTo<T>(list: T[]): (item: T) => Promise<void> {
  return (item) => {
    list.push(item);
    return Promise.resolve();
  };
}

function kindOf(result: BatchResult | undefined): string | undefined {
  if (!result) return undefined;
  return result.outcome.ok ? "image" : result.outcome.failure.kind;
}

/** A byte stream of `chunks`, then an error when `cut` is set. */
function streamOf(chunks: (string | Uint8Array)[], cut?: Error) {
  let next = 0;
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull(controller) {
      const chunk = chunks[next++];
      if (chunk === undefined) {
        return cut ? controller.error(cut) : controller.close();
      }
      controller.enqueue(
        typeof chunk === "string"
          ? encoder.encode(chunk)
          : new Uint8Array(chunk),
      );
    },
  }, { highWaterMark: 0 });
}

async function collect(
  body: ReadableStream<Uint8Array<ArrayBuffer>>,
  maxLineChars?: number,
) {
  const results: BatchResult[] = [];
  const read = await readResultStream(body, {
    apiKey: KEY,
    maxLineChars,
    onResult: pushTo(results),
  });
  return { results, read };
}

Deno.test("[gemini] resultOf() reads file lines and inline entries alike", () => {
  const response = imageResponse();
  const forms = [
    { key: "r1", response },
    { metadata: { key: "r1" }, response },
    { key: "r1", metadata: { key: "ignored" }, response },
  ];
  for (const form of forms) {
    const result = resultOf(form, KEY);
    assert.equal(result?.key, "r1");
    assert.ok(result?.outcome.ok);
    assert.equal(result.outcome.image.data, "iVBORw0KGgo=");
    assert.equal(result.outcome.usage?.imageTokens, 1120);
  }
  const blocked = resultOf({
    key: "r2",
    response: { promptFeedback: { blockReason: "PROHIBITED_CONTENT" } },
  }, KEY);
  assert.equal(kindOf(blocked), "blocked");
  assert.equal(kindOf(resultOf({ key: "r3" }, KEY)), "malformed");
  assert.equal(
    kindOf(resultOf({ key: "r3", response: "nope" }, KEY)),
    "malformed",
  );
  assert.equal(
    kindOf(resultOf({ key: "r4", response, error: { code: 13 } }, KEY)),
    "server",
    "the error wins",
  );
});

Deno.test("[gemini] resultOf() maps error Status objects like HTTP errors", () => {
  const cases: [unknown, string, number?][] = [
    [
      { code: 429, status: "RESOURCE_EXHAUSTED", message: "Slow down" },
      "rate-limited",
    ],
    [
      {
        code: 8,
        message: "Slow down",
        details: [{
          "@type": "type.googleapis.com/google.rpc.RetryInfo",
          retryDelay: "3s",
        }],
      },
      "rate-limited",
      3000,
    ],
    [
      { status: "RESOURCE_EXHAUSTED", message: "limit: 0 for this model" },
      "quota",
    ],
    [{
      code: 8,
      details: [{
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        violations: [{ quotaId: "RequestsPerDayPerProject" }],
      }],
    }, "quota"],
    [{ code: 500, message: "Internal" }, "server"],
    [{ code: 13, message: "Internal" }, "server"],
    [{ status: "UNAVAILABLE" }, "server"],
    [{ code: 4, status: "DEADLINE_EXCEEDED" }, "server"],
    [{
      code: 400,
      status: "INVALID_ARGUMENT",
      message: "aspect_ratio must be one of …",
    }, "invalid-request"],
    [{ code: 3 }, "invalid-request"],
    [{ status: "failed_precondition" }, "invalid-request"],
    [{ code: 16 }, "auth"],
    [{ code: 7, status: "PERMISSION_DENIED" }, "auth"],
    [{ code: 0, status: "OK" }, "server"],
    [{ code: 99999 }, "server"],
    [{}, "server"],
  ];
  for (const [error, kind, retryAfterMs] of cases) {
    const result = resultOf({ key: "k", error }, KEY);
    assert.equal(kindOf(result), kind, JSON.stringify(error));
    assert.ok(result && !result.outcome.ok);
    assert.equal(result.outcome.failure.retryAfterMs, retryAfterMs);
  }
  const echoed = resultOf({
    key: "k",
    error: {
      code: 400,
      message: `Invalid API key: ${KEY} ${"x".repeat(2000)}`,
    },
  }, KEY);
  assert.ok(echoed && !echoed.outcome.ok);
  assertNoKey(echoed.outcome.failure.message);
  assert.ok(echoed.outcome.failure.message.length <= 600);
});

Deno.test("[gemini] a result with no usable key is skipped and counted", () => {
  const response = imageResponse();
  const bad: unknown[] = [
    null,
    "line",
    7,
    [],
    {},
    { response },
    { key: 7, response },
    { key: "", response },
    { key: "a b", response },
    { key: "a/b", response },
    { key: "k".repeat(129), response },
    { metadata: { key: ["r1"] }, response },
    // Key material is never handed on as a key, whatever its shape.
    { key: KEY, response },
    { key: "AIzaSyA1234567890abcdefghijklmnopqrstu", response },
    { key: `r-${KEY.slice(3, 20)}`, response },
  ];
  const scrubber = createScrubber([KEY]);
  for (const entry of bad) {
    assert.equal(
      resultOf(entry, KEY, scrubber),
      undefined,
      JSON.stringify(entry),
    );
  }
  const { results, skipped } = inlineResults([
    ...bad,
    { key: "ok-1", response },
    { metadata: { key: "ok.2" }, error: { code: 13 } },
  ], KEY);
  assert.deepEqual(results.map((r) => [r.key, kindOf(r)]), [["ok-1", "image"], [
    "ok.2",
    "server",
  ]]);
  assert.equal(skipped, bad.length);
});

Deno.test("[gemini] splitLines() splits across chunks and drops over-long lines unkept", async () => {
  async function* chunks(...parts: string[]) {
    yield* parts;
  }
  const all = async (source: AsyncIterable<string>, max = 100) => {
    const out: (string | null)[] = [];
    for await (const l of splitLines(source, max)) out.push(l);
    return out;
  };
  assert.deepEqual(await all(chunks("a", "b\nc", "d\r\n", "\n", "e")), [
    "ab",
    "cd",
    "",
    "e",
  ]);
  assert.deepEqual(await all(chunks("one\n", "two\n")), ["one", "two"]);
  assert.deepEqual(await all(chunks("")), []);
  assert.deepEqual(await all(chunks("12345", "678\nok\n", "1234567890"), 6), [
    null,
    "ok",
    null,
  ]);
  assert.deepEqual(await all(chunks("123456\n"), 6), ["123456"]);
});

Deno.test("[gemini] readResultStream() streams 100 lines without reading ahead", async () => {
  const image = "A".repeat(100_000);
  let pulled = 0;
  const body = new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull(controller) {
      if (pulled === 100) return controller.close();
      // Each line in three chunks, as a network would cut it.
      const bytes = encoder.encode(line(`row-${pulled++}`, image));
      for (const at of [0, 1000, 50_000]) {
        controller.enqueue(
          bytes.slice(at, at === 0 ? 1000 : at === 1000 ? 50_000 : undefined),
        );
      }
    },
  }, { highWaterMark: 0 });
  const keys: string[] = [];
  let mostAhead = 0;
  const read = await readResultStream(body, {
    apiKey: KEY,
    onResult: async (result) => {
      keys.push(result.key);
      assert.ok(result.outcome.ok);
      assert.equal(result.outcome.image.data.length, image.length);
      // What was pulled but not delivered is all the memory there is.
      mostAhead = Math.max(mostAhead, pulled - keys.length);
      await new Promise((resolve) => setTimeout(resolve, 0));
    },
  });
  assert.deepEqual(read, { ok: true, count: 100, skipped: 0 });
  assert.deepEqual(keys, Array.from({ length: 100 }, (_, i) => `row-${i}`));
  assert.ok(mostAhead <= 2, `read ${mostAhead} lines ahead`);
});

Deno.test("[gemini] readResultStream() copes with split UTF-8, CRLF, blank, garbage and huge lines", async () => {
  const text = line("r1").replace("\n", "\r\n") + "\n   \n" + "not json\n" +
    JSON.stringify({
      key: "r2",
      error: { code: 429, message: "Résumé ✓ later" },
    }) + "\n" + line("r3", "B".repeat(5000)) + line("r4").trimEnd();
  const bytes = encoder.encode(text);
  const accent = bytes.indexOf(0xc3);
  // Cut inside the two bytes of "é", and at odd places elsewhere.
  const chunks = [
    bytes.slice(0, 7),
    bytes.slice(7, accent + 1),
    bytes.slice(accent + 1, accent + 900),
    bytes.slice(accent + 900),
  ];
  const { results, read } = await collect(streamOf(chunks), 4000);
  assert.deepEqual(read, { ok: true, count: 3, skipped: 2 });
  assert.deepEqual(results.map((r) => [r.key, kindOf(r)]), [["r1", "image"], [
    "r2",
    "rate-limited",
  ], ["r4", "image"]]);
  const r2 = results[1]!.outcome;
  assert.ok(!r2.ok && r2.failure.message.includes("Résumé ✓"));
});

Deno.test("[gemini] a cut-off stream delivers the complete lines, then fails as network", async () => {
  const chunks = [
    line("r1") + line("r2"),
    line("r3") + line("r4").slice(0, 30),
  ];
  const { results, read } = await collect(
    streamOf(chunks, new TypeError(`connection reset; key=${KEY}`)),
  );
  assert.deepEqual(results.map((r) => r.key), ["r1", "r2", "r3"]);
  const failure = failureOf(read);
  assert.equal(failure.kind, "network");
  assert.match(failure.message, /cut off after 3 results/);
  assertNoKey(failure.message);
});

Deno.test("[gemini] readResultStream() hands the caller's own error back and stops reading", async () => {
  let cancelled = false;
  let pulls = 0;
  const body = new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull(controller) {
      controller.enqueue(encoder.encode(line(`r${pulls++}`)));
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  const mine = new Error("disk full");
  await assert.rejects(
    readResultStream(body, {
      apiKey: KEY,
      onResult: () => Promise.reject(mine),
    }),
    (e) => e === mine,
  );
  assert.ok(cancelled, "the download was not cancelled");
  assert.ok(pulls <= 3, String(pulls));
});

Deno.test("[gemini] readResultsFile() streams a results file from the fake's Files API", async () => {
  await using fake = startFakeGemini();
  const lines = Array.from(
    { length: 100 },
    (_, i) =>
      i % 10 === 9
        ? JSON.stringify({
          key: `row-${i}`,
          error: { code: 500, message: "Internal" },
        }) + "\n"
        : line(`row-${i}`),
  );
  const uploaded = await uploadFile({
    apiKey: KEY,
    baseUrl: fake.url,
    bytes: encoder.encode(lines.join("")),
    mimeType: BATCH_INPUT_MIME_TYPE,
    displayName: "results.jsonl",
  });
  assert.ok(uploaded.ok, JSON.stringify(uploaded));
  const seen: BatchResult[] = [];
  const read = await readResultsFile({
    apiKey: KEY,
    baseUrl: fake.url,
    name: uploaded.file.name,
    onResult: pushTo(seen),
  });
  assert.deepEqual(read, { ok: true, count: 100, skipped: 0 });
  assert.equal(seen.filter((r) => !r.outcome.ok).length, 10);
  assert.deepEqual(seen.map((r) => r.key), lines.map((_, i) => `row-${i}`));
  const download = fake.requests.find((r) => r.path.endsWith(":download"));
  assert.equal(download?.path, `/v1beta/${uploaded.file.name}:download`);
  assert.deepEqual(download?.query, { alt: "media" });
  assertKeyOnlyInHeader(fake.requests);
  assert.ok(
    await deleteFile({
      apiKey: KEY,
      baseUrl: fake.url,
      name: uploaded.file.name,
    }),
  );
});

/**
 * A raw HTTP/1.1 server that promises `Content-Length` bytes, sends `body`
 * and hangs up: the cut a dropped connection makes (Deno.serve would log).
 */
function cuttingServer(body: string) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const heads: string[] = [];
  const served = (async () => {
    for await (const conn of listener) {
      const buffer = new Uint8Array(16 * 1024);
      const n = await conn.read(buffer);
      heads.push(new TextDecoder().decode(buffer.subarray(0, n ?? 0)));
      const bytes = encoder.encode(body);
      await conn.write(encoder.encode(
        `HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${
          bytes.length + 100_000
        }\r\n\r\n`,
      ));
      await conn.write(bytes);
      conn.close();
    }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    heads,
    async [Symbol.asyncDispose]() {
      listener.close();
      await served.catch(() => {});
    },
  };
}

Deno.test("[gemini] readResultsFile() over HTTP: a connection cut midway fails after the complete lines", async () => {
  await using google = cuttingServer(
    line("r0") + line("r1") + line("r2") + line("r3").slice(0, 40),
  );
  const keys: string[] = [];
  const read = await readResultsFile({
    apiKey: KEY,
    baseUrl: google.url,
    name: "files/out-1",
    onResult: (r) => pushTo(keys)(r.key),
  });
  assert.deepEqual(keys, ["r0", "r1", "r2"]);
  const failure = failureOf(read);
  assert.equal(failure.kind, "network");
  assert.match(failure.message, /cut off after 3 results/);
  assertNoKey(failure.message);
  assert.equal(google.heads.length, 1);
  const head = google.heads[0]!.toLowerCase();
  assert.ok(
    head.startsWith("get /v1beta/files/out-1:download?alt=media http/1.1\r\n"),
    head,
  );
  assert.ok(
    head.includes(`\r\nx-goog-api-key: ${KEY.toLowerCase()}\r\n`),
    "key in the header",
  );
  assert.equal(
    head.split(KEY.toLowerCase()).length,
    2,
    "the key only once, in its header",
  );
});
