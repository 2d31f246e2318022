import assert from "node:assert/strict";
import { ApiError } from "@google/genai";
import { classifyError } from "./errors.ts";

const KEY = "kZ3v9QpLr7TmWx2NbY8cHd4FsJ6gUe1A";
const T = "type.googleapis.com/google.rpc.";

// What @google/genai 3.3.0 throws for a non-2xx answer: the body as message.
function apiError(status: number, error: Record<string, unknown>): ApiError {
  return new ApiError({ status, message: JSON.stringify({ error }) });
}

function classify(error: unknown) {
  return classifyError(error, { apiKey: KEY });
}

Deno.test("classifyError() maps each row of Google's error catalogue", async (t) => {
  const rows: [string, ApiError, string][] = [
    [
      "bad key",
      apiError(400, {
        code: 400,
        message: "API key not valid. Please pass a valid API key.",
        status: "INVALID_ARGUMENT",
        details: [{
          "@type": T + "ErrorInfo",
          reason: "API_KEY_INVALID",
          domain: "googleapis.com",
          metadata: { service: "generativelanguage.googleapis.com" },
        }],
      }),
      "auth",
    ],
    [
      "deleted key",
      apiError(400, {
        code: 400,
        message: "API Key not found. Please pass a valid API key.",
        status: "INVALID_ARGUMENT",
        details: [{ "@type": T + "ErrorInfo", reason: "API_KEY_INVALID" }],
      }),
      "auth",
    ],
    [
      "expired key",
      apiError(400, {
        code: 400,
        message: "API key expired. Please renew the API key.",
        status: "INVALID_ARGUMENT",
        details: [{ "@type": T + "ErrorInfo", reason: "API_KEY_INVALID" }],
      }),
      "auth",
    ],
    [
      "leaked key",
      apiError(403, {
        code: 403,
        message:
          "Your API key was reported as leaked. Please use another API key.",
        status: "PERMISSION_DENIED",
      }),
      "auth",
    ],
    [
      "no key",
      apiError(403, {
        code: 403,
        message: "Method doesn't allow unregistered callers (callers without " +
          "established identity). Please use API Key or other form of API consumer " +
          "identity to call this API.",
        status: "PERMISSION_DENIED",
      }),
      "auth",
    ],
    [
      "AQ. key problem",
      apiError(401, {
        code: 401,
        message:
          "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        status: "UNAUTHENTICATED",
        details: [{
          "@type": T + "ErrorInfo",
          reason: "ACCESS_TOKEN_TYPE_UNSUPPORTED",
        }],
      }),
      "auth",
    ],
    [
      "overloaded",
      apiError(503, {
        code: 503,
        message: "The model is overloaded. Please try again later.",
        status: "UNAVAILABLE",
      }),
      "server",
    ],
    [
      "internal",
      apiError(500, {
        code: 500,
        message: "An internal error has occurred.",
        status: "INTERNAL",
      }),
      "server",
    ],
    [
      "bad gateway (non-JSON body)",
      apiError(502, { message: "oops", code: 502 }),
      "server",
    ],
    [
      "gateway timeout",
      apiError(504, { code: 504, message: "Deadline exceeded" }),
      "server",
    ],
    [
      "unknown model",
      apiError(404, {
        code: 404,
        message:
          "models/nope is not found for API version v1beta, or is not supported " +
          "for generateContent. Call ListModels to see the list of available models.",
        status: "NOT_FOUND",
      }),
      "invalid-request",
    ],
    [
      "multiple candidates",
      apiError(400, {
        code: 400,
        message:
          "Multiple candidates is not enabled for models/gemini-3-pro-image",
        status: "INVALID_ARGUMENT",
      }),
      "invalid-request",
    ],
    [
      "bad aspect ratio",
      apiError(400, {
        code: 400,
        message:
          "* GenerateContentRequest.generation_config.image_config.aspect_ratio: " +
          "aspect_ratio must be one of '1:1', '2:3'",
        status: "INVALID_ARGUMENT",
      }),
      "invalid-request",
    ],
    [
      "other 4xx",
      apiError(413, { code: 413, message: "Request too large" }),
      "invalid-request",
    ],
  ];
  for (const [name, error, kind] of rows) {
    await t.step(name, () => {
      const failure = classify(error);
      assert.equal(failure.kind, kind);
      // Google's own sentence, not the JSON envelope.
      assert.equal(failure.message, JSON.parse(error.message).error.message);
    });
  }
});

Deno.test("classifyError() reads the quota that tripped: quotaValue, else the message's limit", () => {
  const quota429 = (message: string, violation: Record<string, unknown>) =>
    classify(apiError(429, {
      code: 429,
      message,
      status: "RESOURCE_EXHAUSTED",
      details: [
        { "@type": T + "QuotaFailure", violations: [violation] },
        { "@type": T + "RetryInfo", retryDelay: "38s" },
      ],
    }));
  const named = quota429("You exceeded your current quota.", {
    quotaId: "GenerateRequestsPerMinutePerProjectPerModel",
    quotaValue: "30",
  });
  assert.equal(named.kind, "rate-limited");
  assert.equal(named.quotaLimit, 30);
  assert.equal(named.quotaWindowMs, 60_000);
  assert.equal(named.retryAfterMs, 38_000);
  const inText = quota429(
    "You exceeded your current quota.\n* Quota exceeded for metric: " +
      "generativelanguage.googleapis.com/generate_content_paid_tier_requests, " +
      "limit: 4, model: gemini-nano-banana-2.1\nPlease retry in 0.6s.",
    { quotaId: "GenerateRequestsPerSecondPerProjectPerModel" },
  );
  assert.equal(inText.quotaLimit, 4);
  assert.equal(inText.quotaWindowMs, 1_000);
  const unnamed = quota429("You exceeded your current quota.", {
    quotaId: "GenerateRequestsPerMinutePerProjectPerModel",
  });
  assert.equal(unnamed.quotaLimit, undefined, "no number: the rate is learned");
});
