/**
 * The fake Gemini API driven by the real `@google/genai` SDK (and raw fetch
 * where the SDK cannot send what a test needs).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { setTimeout as delay } from "node:timers/promises";
import {
  ApiError,
  type GenerateContentConfig,
  type GenerateContentResponse,
  GoogleGenAI,
} from "@google/genai";
import {
  CLIENT_CLOSED,
  type FakeGemini,
  type FakeGeminiOptions,
  startFakeGemini,
} from "./fake_gemini.ts";
import { decodePng, pixelAt } from "./fake_gemini/png_check.ts";

const KEY = "AQ.test-key-0123456789abcdefghij";
const PRO = "gemini-3-pro-image";
const LITE = "gemini-3.1-flash-lite-image";

interface GoogleErrorBody {
  code: number;
  message: string;
  status: string;
  details?: Record<string, unknown>[];
}

function genai(fake: FakeGemini, apiKey = KEY, apiVersion = "v1beta") {
  return new GoogleGenAI({
    apiKey,
    apiVersion,
    httpOptions: { baseUrl: fake.url },
  });
}

function draw(
  ai: GoogleGenAI,
  prompt: string,
  config: GenerateContentConfig = {},
  model = PRO,
) {
  return ai.models.generateContent({
    model,
    contents: prompt,
    config: { responseModalities: ["IMAGE"], ...config },
  });
}

/** Awaits a call that must fail with ApiError and returns its parsed body. */
async function apiError(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const body = JSON.parse(error.message) as { error: GoogleErrorBody };
    return { status: error.status, message: error.message, error: body.error };
  }
  assert.fail("Expected the call to fail with ApiError");
}

function detail(
  error: GoogleErrorBody,
  type: string,
): Record<string, unknown> | undefined {
  return error.details?.find((d) => String(d["@type"]).endsWith(`.${type}`));
}

function parts(response: GenerateContentResponse) {
  return response.candidates?.[0]?.content?.parts ?? [];
}

/** The last inline image not marked as a thought, decoded from base64. */
function finalImage(response: GenerateContentResponse): Uint8Array {
  const part = parts(response).findLast((p) => p.inlineData && !p.thought);
  assert.ok(part?.inlineData?.data, "no final image part");
  return Buffer.from(part.inlineData.data, "base64");
}

async function post(
  fake: FakeGemini,
  path: string,
  body: unknown,
  headers: HeadersInit = { "x-goog-api-key": KEY },
) {
  return await fetch(`${fake.url}${path}`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const DRAW_BODY = {
  contents: [{ role: "user", parts: [{ text: "a lighthouse" }] }],
  generationConfig: { responseModalities: ["IMAGE"] },
};

Deno.test("startFakeGemini() serves Pro images with thought parts at the table's pixel sizes", async (t) => {
  await using fake = startFakeGemini();
  const ai = genai(fake);
  for (
    const [ratio, width, height] of [["1:1", 1024, 1024], [
      "16:9",
      1376,
      768,
    ]] as const
  ) {
    await t.step(`${ratio} 1K is ${width}×${height}`, async () => {
      const response = await draw(ai, `a red fox, ${ratio}`, {
        responseModalities: ["TEXT", "IMAGE"],
        imageConfig: { aspectRatio: ratio, imageSize: "1K" },
      });
      const [thoughtText, thoughtImage, final, closing] = parts(response);
      assert.equal(thoughtText?.thought, true);
      assert.equal(typeof thoughtText?.text, "string");
      assert.equal(thoughtImage?.thought, true);
      assert.equal(final?.inlineData?.mimeType, "image/png");
      assert.equal(final?.thought, undefined);
      assert.ok(final?.thoughtSignature);
      assert.equal(closing?.text, "Here is your image.");
      assert.equal(response.candidates?.[0]?.finishReason, "STOP");

      const png = await decodePng(finalImage(response));
      assert.deepEqual([png.width, png.height], [width, height]);
      assert.deepEqual(pixelAt(png, width - 1, height - 1), pixelAt(png, 0, 0));
      const draft = await decodePng(
        Buffer.from(thoughtImage?.inlineData?.data ?? "", "base64"),
      );
      assert.deepEqual(pixelAt(draft, 0, 0), [128, 128, 128]);
      assert.notDeepEqual(pixelAt(png, 0, 0), [128, 128, 128]);

      const usage = response.usageMetadata;
      assert.deepEqual(usage?.candidatesTokensDetails, [{
        modality: "IMAGE",
        tokenCount: 1120,
      }]);
      assert.ok((usage?.thoughtsTokenCount ?? 0) > 0);
      assert.equal(
        usage?.totalTokenCount,
        (usage?.promptTokenCount ?? 0) + (usage?.candidatesTokenCount ?? 0) +
          (usage?.thoughtsTokenCount ?? 0),
      );
      assert.equal(response.modelVersion, PRO);
    });
  }
  await t.step(
    "the SDK sends the key in x-goog-api-key, never in the URL",
    () => {
      assert.equal(fake.requests.length, 2);
      for (const request of fake.requests) {
        assert.equal(request.path, `/v1beta/models/${PRO}:generateContent`);
        assert.equal(request.headers["x-goog-api-key"], KEY);
        assert.equal(request.query.key, undefined);
        assert.ok(!request.path.includes(KEY));
      }
    },
  );
});

Deno.test("startFakeGemini() sizes, tokens and thoughts follow the model", async (t) => {
  await using fake = startFakeGemini();
  const ai = genai(fake);
  const cases = [
    {
      model: PRO,
      ratio: "16:9",
      size: "2K",
      pixels: [2752, 1536],
      tokens: 1120,
      thoughts: true,
    },
    {
      model: PRO,
      ratio: "21:9",
      size: "4K",
      pixels: [6336, 2688],
      tokens: 2000,
      thoughts: true,
    },
    {
      model: "gemini-3.1-flash-image",
      ratio: "1:1",
      size: "512",
      pixels: [512, 512],
      tokens: 747,
      thoughts: true,
    },
    {
      model: "gemini-nano-banana-2.1",
      ratio: "1:8",
      size: "1K",
      pixels: [368, 2944],
      tokens: 1120,
      thoughts: true,
    },
    {
      model: "gemini-nano-banana-2.1",
      ratio: "4:1",
      size: "4K",
      pixels: [8192, 2048],
      tokens: 2520,
      thoughts: true,
    },
    {
      model: "gemini-2.5-flash-image",
      ratio: "3:4",
      size: undefined,
      pixels: [896, 1200],
      tokens: 1290,
      thoughts: false,
    },
  ];
  for (const c of cases) {
    await t.step(`${c.model} ${c.ratio} ${c.size ?? "(no size)"}`, async () => {
      const response = await draw(ai, "a bowl of fruit", {
        imageConfig: { aspectRatio: c.ratio, imageSize: c.size },
      }, c.model);
      const png = await decodePng(finalImage(response));
      assert.deepEqual([png.width, png.height], c.pixels);
      assert.equal(response.usageMetadata?.candidatesTokenCount, c.tokens);
      assert.equal(parts(response).some((p) => p.thought), c.thoughts);
    });
  }
  await t.step(
    "[no-thoughts] and [thoughts] override the default",
    async () => {
      assert.equal(parts(await draw(ai, "cat [no-thoughts]")).length, 1);
      const forced = await draw(
        ai,
        "cat [thoughts]",
        {},
        "gemini-2.5-flash-image",
      );
      assert.equal(parts(forced).filter((p) => p.thought).length, 2);
    },
  );
  await t.step(
    "imageBytes pads the final image and it still decodes",
    async () => {
      await using padded = startFakeGemini({
        imageBytes: 200_000,
        thoughts: false,
      });
      const bytes = finalImage(await draw(genai(padded), "a big file"));
      assert.ok(
        Math.abs(bytes.length - 200_000) < 2_000,
        `size ${bytes.length}`,
      );
      assert.deepEqual((await decodePng(bytes)).chunks, [
        "IHDR",
        "IDAT",
        "npAd",
        "IEND",
      ]);
    },
  );
});

Deno.test("startFakeGemini() lists models with real pagination", async () => {
  await using fake = startFakeGemini();
  const ai = genai(fake);
  const pager = await ai.models.list({ config: { pageSize: 2 } });
  const models = [];
  for await (const model of pager) models.push(model);
  assert.deepEqual(models.map((m) => m.name), [
    "models/gemini-nano-banana-2.1",
    "models/gemini-3-pro-image",
    "models/gemini-3.1-flash-lite-image",
    "models/gemini-3.1-flash-image",
    "models/gemini-2.5-flash-image",
    "models/gemini-2.5-flash",
  ]);
  assert.deepEqual(models.at(-1)?.supportedActions, [
    "generateContent",
    "countTokens",
  ]);
  assert.deepEqual(fake.requests.map((r) => r.query.pageToken !== undefined), [
    false,
    true,
    true,
  ]);
  assert.equal(
    (await ai.models.get({ model: PRO })).displayName,
    "Nano Banana Pro",
  );
  const gone = await apiError(
    ai.models.get({ model: "imagen-4.0-generate-001" }),
  );
  assert.equal(gone.status, 404);
});

Deno.test("startFakeGemini() rejects bad keys like Google does", async (t) => {
  await using fake = startFakeGemini({
    leakedKeys: ["leaked-key-1"],
    expiredKeys: ["old-key-1"],
  });
  await t.step("invalid key: 400 API_KEY_INVALID echoing the key", async () => {
    const failure = await apiError(
      draw(genai(fake, "bad-AIzaSyEchoedKey123"), "cat"),
    );
    assert.equal(failure.status, 400);
    assert.ok(failure.message.includes("bad-AIzaSyEchoedKey123"));
    assert.equal(detail(failure.error, "ErrorInfo")?.reason, "API_KEY_INVALID");
    assert.equal(
      detail(failure.error, "DebugInfo")?.detail,
      "Invalid API key: bad-AIzaSyEchoedKey123",
    );
  });
  await t.step("leaked key: 403", async () => {
    const failure = await apiError(genai(fake, "leaked-key-1").models.list());
    assert.equal(failure.status, 403);
    assert.equal(
      failure.error.message,
      "Your API key was reported as leaked. Please use another API key.",
    );
  });
  await t.step("expired key: 400 without the key in the text", async () => {
    const failure = await apiError(draw(genai(fake, "old-key-1"), "cat"));
    assert.equal(
      failure.error.message,
      "API key expired. Please renew the API key.",
    );
    assert.ok(!failure.message.includes("old-key-1"));
  });
  await t.step(
    "no key: 403 unregistered callers, JSON content type",
    async () => {
      const response = await fetch(`${fake.url}/v1beta/models`);
      assert.equal(response.status, 403);
      assert.match(
        response.headers.get("content-type") ?? "",
        /application\/json/,
      );
      assert.match(
        (await response.json()).error.message,
        /unregistered callers/,
      );
    },
  );
  await t.step("?key= works and is recorded", async () => {
    const response = await fetch(`${fake.url}/v1beta/models?key=query-key-1`);
    assert.equal(response.status, 200);
    await response.body?.cancel();
    assert.equal(fake.requests.at(-1)?.query.key, "query-key-1");
  });
  await t.step("unknown route: 404 envelope", async () => {
    const response = await fetch(`${fake.url}/v1beta/tunedModels`, {
      headers: { "x-goog-api-key": KEY },
    });
    assert.equal(response.status, 404);
    assert.equal((await response.json()).error.status, "NOT_FOUND");
  });
});

Deno.test("startFakeGemini() validates requests per model", async (t) => {
  await using fake = startFakeGemini();
  const ai = genai(fake);
  const cases: [string, string, GenerateContentConfig, RegExp][] = [
    [
      "bad aspect ratio",
      PRO,
      { imageConfig: { aspectRatio: "7:3" } },
      /aspect_ratio must be one of '1:1', '2:3'.*, or '21:9'\./,
    ],
    [
      "4K on Lite",
      LITE,
      { imageConfig: { imageSize: "4K" } },
      /image_size must be one of '1K'\./,
    ],
    ["512 on Pro", PRO, { imageConfig: { imageSize: "512" } }, /image_size/],
    ["any size on 2.5", "gemini-2.5-flash-image", {
      imageConfig: { imageSize: "1K" },
    }, /image_size/],
    ["lowercase 1k", "gemini-nano-banana-2.1", {
      imageConfig: { imageSize: "1k" },
    }, /image_size/],
    [
      "two candidates",
      PRO,
      { candidateCount: 2 },
      /Multiple candidates is not enabled for models\/gemini-3-pro-image/,
    ],
  ];
  for (const [name, model, config, message] of cases) {
    await t.step(`${name}: 400`, async () => {
      const failure = await apiError(draw(ai, "cat", config, model));
      assert.equal(failure.status, 400);
      assert.equal(failure.error.status, "INVALID_ARGUMENT");
      assert.match(failure.error.message, message);
    });
  }
  await t.step("unknown and shut-down models: 404", async () => {
    for (
      const model of ["imagen-4.0-generate-001", "gemini-3-pro-image-preview"]
    ) {
      const failure = await apiError(draw(ai, "cat", {}, model));
      assert.equal(failure.status, 404);
      assert.match(
        failure.error.message,
        new RegExp(`models/${model} is not found for API version v1beta`),
      );
    }
  });
  await t.step("invalid JSON: 400", async () => {
    const response = await post(
      fake,
      `/v1beta/models/${PRO}:generateContent`,
      "{not json",
    );
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error.status, "INVALID_ARGUMENT");
  });
  await t.step(
    "v1 rejects responseModalities (why BatchGen pins v1beta)",
    async () => {
      const failure = await apiError(draw(genai(fake, KEY, "v1"), "cat"));
      assert.equal(failure.status, 400);
      assert.equal(
        failure.error.message,
        `Invalid JSON payload received. Unknown name "responseModalities" at 'generation_config': Cannot find field.`,
      );
      assert.ok(fake.requests.at(-1)?.path.startsWith("/v1/models/"));
    },
  );
});

Deno.test("startFakeGemini() answers scenario markers", async (t) => {
  await using fake = startFakeGemini();
  const ai = genai(fake);
  await t.step(
    "[status:429]: RetryInfo 1s and QuotaFailure per second",
    async () => {
      const failure = await apiError(draw(ai, "cat [status:429]"));
      assert.equal(failure.status, 429);
      assert.equal(detail(failure.error, "RetryInfo")?.retryDelay, "1s");
      assert.match(failure.error.message, /Please retry in 1\.0s\.$/);
      const violations = detail(failure.error, "QuotaFailure")?.violations as {
        quotaId: string;
      }[];
      assert.equal(
        violations[0]?.quotaId,
        "GenerateRequestsPerSecondPerProjectPerModel",
      );
    },
  );
  await t.step("[status:503] and [status:500]", async () => {
    const overloaded = await apiError(draw(ai, "cat [status:503]"));
    assert.equal(overloaded.status, 503);
    assert.equal(
      overloaded.error.message,
      "The model is overloaded. Please try again later.",
    );
    assert.equal(
      (await apiError(draw(ai, "cat [status:500]"))).error.status,
      "INTERNAL",
    );
  });
  await t.step(
    "[daily-quota] and dailyQuotaKeys: QuotaFailure per day",
    async () => {
      await using daily = startFakeGemini({ dailyQuotaKeys: ["daily-key-1"] });
      for (
        const call of [
          draw(ai, "cat [daily-quota]"),
          draw(genai(daily, "daily-key-1"), "cat"),
        ]
      ) {
        const failure = await apiError(call);
        const violations = detail(failure.error, "QuotaFailure")
          ?.violations as { quotaId: string }[];
        assert.match(violations[0]?.quotaId ?? "", /PerDay/);
      }
    },
  );
  await t.step("[block:…]: HTTP 200, finishReason, no parts", async () => {
    for (
      const reason of ["IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "NO_IMAGE"]
    ) {
      const response = await draw(ai, `cat [block:${reason}]`);
      const candidate = response.candidates?.[0];
      assert.equal(candidate?.finishReason, reason);
      assert.equal(candidate?.content?.parts, undefined);
      assert.ok((response.usageMetadata?.thoughtsTokenCount ?? 0) > 0);
    }
    // The SDK drops finishMessage on the Gemini API path, so read it raw.
    const response = await post(fake, `/v1beta/models/${PRO}:generateContent`, {
      ...DRAW_BODY,
      contents: [{ role: "user", parts: [{ text: "x [block:NO_IMAGE]" }] }],
    });
    const body = await response.json();
    assert.deepEqual(body.candidates[0].content, { role: "model" });
    assert.match(
      body.candidates[0].finishMessage,
      /^The model output could not be generated\. .* Support code: 42876398\.$/,
    );
  });
  await t.step(
    "[block-prompt:PROHIBITED_CONTENT]: no candidates key at all",
    async () => {
      const response = await post(
        fake,
        `/v1beta/models/${PRO}:generateContent`,
        {
          ...DRAW_BODY,
          contents: [{
            role: "user",
            parts: [{ text: "x [block-prompt:PROHIBITED_CONTENT]" }],
          }],
        },
      );
      const body = await response.json();
      assert.equal(response.status, 200);
      assert.equal("candidates" in body, false);
      assert.equal(body.promptFeedback.blockReason, "PROHIBITED_CONTENT");
    },
  );
  await t.step("[text-only]: STOP with one text part", async () => {
    const response = await draw(ai, "cat [text-only]");
    assert.equal(response.candidates?.[0]?.finishReason, "STOP");
    assert.match(response.text ?? "", /^I can't draw that/);
    assert.equal(parts(response).length, 1);
  });
  await t.step("[malformed]: 200 with truncated JSON", async () => {
    const response = await post(fake, `/v1beta/models/${PRO}:generateContent`, {
      ...DRAW_BODY,
      contents: [{ role: "user", parts: [{ text: "x [malformed]" }] }],
    });
    assert.equal(response.status, 200);
    await assert.rejects(response.json(), SyntaxError);
  });
  await t.step(
    "[fail-once:503] then success; [fail-times:2:429] twice",
    async () => {
      assert.equal(
        (await apiError(draw(ai, "dog [fail-once:503]"))).status,
        503,
      );
      assert.ok(finalImage(await draw(ai, "dog [fail-once:503]")).length > 0);
      assert.equal(
        (await apiError(draw(ai, "owl [fail-times:2:429]"))).status,
        429,
      );
      assert.equal(
        (await apiError(draw(ai, "owl [fail-times:2:429]"))).status,
        429,
      );
      assert.ok(
        finalImage(await draw(ai, "owl [fail-times:2:429]")).length > 0,
      );
    },
  );
  await t.step("[slow:MS] adds latency", async () => {
    const started = performance.now();
    await draw(ai, "cat [slow:150]");
    assert.ok(performance.now() - started >= 140);
  });
});

Deno.test("startFakeGemini() enforces a rolling rate limit with RetryInfo", async () => {
  await using fake = startFakeGemini({
    rateLimitPerMinute: 3,
    rateWindowMs: 500,
  });
  {
    // Warm the SDK and the image cache first, so the three calls below
    // surely land inside one 500 ms window.
    await using warm = startFakeGemini();
    await draw(genai(warm), "cat", {}, LITE);
  }
  const ai = genai(fake);
  await Promise.all([1, 2, 3].map((i) => draw(ai, `cat ${i}`, {}, LITE)));
  const failure = await apiError(draw(ai, "cat 4", {}, LITE));
  assert.equal(failure.status, 429);
  const retryDelay = String(detail(failure.error, "RetryInfo")?.retryDelay);
  assert.match(retryDelay, /^\d+(\.\d)?s$/);
  const seconds = parseFloat(retryDelay);
  assert.ok(seconds > 0 && seconds <= 0.5, retryDelay);
  assert.match(
    failure.error.message,
    new RegExp(`Please retry in ${seconds.toFixed(1)}s\\.`),
  );
  await delay(seconds * 1000);
  await draw(ai, "cat 5", {}, LITE);
  assert.deepEqual(fake.stats().byStatus, { 200: 4, 429: 1 });
});

Deno.test("startFakeGemini() enforces several quota windows at once, each named in its 429", async () => {
  await using fake = startFakeGemini({
    quotas: [{ limit: 2, windowMs: 1_000 }, { limit: 3, windowMs: 60_000 }],
  });
  const ai = genai(fake);
  const quotaOf = (failure: { error: GoogleErrorBody }) => {
    const violations = detail(failure.error, "QuotaFailure")
      ?.violations as { quotaId: string; quotaValue: string }[];
    return `${violations[0]?.quotaValue} ${violations[0]?.quotaId}`;
  };
  await Promise.all([1, 2].map((i) => draw(ai, `cat ${i}`, {}, LITE)));
  const perSecond = await apiError(draw(ai, "cat 3", {}, LITE));
  assert.equal(perSecond.status, 429);
  assert.match(quotaOf(perSecond), /^2 GenerateRequestsPerSecond/);
  await delay(
    parseFloat(String(
      detail(perSecond.error, "RetryInfo")?.retryDelay,
    )) * 1000,
  );
  await draw(ai, "cat 3", {}, LITE);
  await delay(1_000);
  const perMinute = await apiError(draw(ai, "cat 4", {}, LITE));
  assert.match(quotaOf(perMinute), /^3 GenerateRequestsPerMinute/);
  assert.match(perMinute.error.message, /limit: 3,/);
  assert.deepEqual(fake.stats().byStatus, { 200: 3, 429: 2 });
});

Deno.test("startFakeGemini() injects seeded faults repeatably", async () => {
  const options: FakeGeminiOptions = {
    seed: 7,
    faults: { rate429: 0.1, rate500: 0.1, rate503: 0.1, malformed: 0.1 },
  };
  async function run(opts: FakeGeminiOptions) {
    await using fake = startFakeGemini(opts);
    const outcomes = [];
    for (let i = 0; i < 60; i++) {
      const response = await post(
        fake,
        `/v1beta/models/${LITE}:generateContent`,
        DRAW_BODY,
      );
      const text = await response.text();
      outcomes.push(
        response.status === 200 && !text.trimEnd().endsWith("}")
          ? "malformed"
          : response.status,
      );
    }
    return outcomes;
  }
  const first = await run(options);
  assert.deepEqual(await run(options), first);
  for (const expected of [200, 429, 500, 503, "malformed"]) {
    assert.ok(first.includes(expected), `${expected} missing`);
  }
  assert.notDeepEqual(await run({ ...options, seed: 8 }), first);
});

Deno.test("startFakeGemini() holds timeout faults until the client aborts", async () => {
  await using fake = startFakeGemini({ faults: { timeout: 1 } });
  const call = draw(genai(fake), "cat", {
    abortSignal: AbortSignal.timeout(100),
  });
  await assert.rejects(call);
  for (let i = 0; i < 100 && fake.requests[0]?.status !== CLIENT_CLOSED; i++) {
    await delay(10);
  }
  assert.equal(fake.requests[0]?.status, CLIENT_CLOSED);
  assert.deepEqual(fake.stats(), {
    generate: 1,
    byStatus: { [CLIENT_CLOSED]: 1 },
    maxInFlight: 1,
  });
});

Deno.test("startFakeGemini() processes requests concurrently and counts them", async () => {
  await using fake = startFakeGemini({ latencyMs: 150 });
  const ai = genai(fake);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 6 }, (_, i) => draw(ai, `cat ${i}`, {}, LITE)),
  );
  assert.ok(performance.now() - started < 150 * 6);
  assert.deepEqual(fake.stats(), {
    generate: 6,
    byStatus: { 200: 6 },
    maxInFlight: 6,
  });
});

Deno.test("startFakeGemini() stubs the Batch API", async () => {
  await using fake = startFakeGemini();
  const ai = genai(fake);
  const job = await ai.batches.create({
    model: LITE,
    src: [
      {
        contents: [{ role: "user", parts: [{ text: "a cat" }] }],
        metadata: { key: "row-1" },
      },
      {
        contents: [{
          role: "user",
          parts: [{ text: "x [block:IMAGE_SAFETY]" }],
        }],
        metadata: { key: "row-2" },
      },
    ],
    config: { displayName: "two rows" },
  });
  assert.equal(job.state, "JOB_STATE_PENDING");
  assert.match(job.name ?? "", /^batches\//);
  const done = await ai.batches.get({ name: job.name ?? "" });
  assert.equal(done.state, "JOB_STATE_SUCCEEDED");
  const rows = done.dest?.inlinedResponses ?? [];
  assert.deepEqual(rows.map((r) => r.metadata?.key), ["row-1", "row-2"]);
  assert.equal(
    rows[1]?.response?.candidates?.[0]?.finishReason,
    "IMAGE_SAFETY",
  );
});
