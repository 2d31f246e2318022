import assert from "node:assert/strict";
import { ApiError } from "@google/genai";
import {
  classifyError,
  parseDuration,
  parseRetryText,
  RequestTimeoutError,
} from "./errors.ts";

const KEY = "kZ3v9QpLr7TmWx2NbY8cHd4FsJ6gUe1A";
const T = "type.googleapis.com/google.rpc.";

// What @google/genai 3.3.0 throws for a non-2xx answer: the body as message.
function apiError(status: number, error: Record<string, unknown>): ApiError {
  return new ApiError({ status, message: JSON.stringify({ error }) });
}

function classify(error: unknown, signal?: AbortSignal) {
  return classifyError(error, { apiKey: KEY, signal });
}

function assertNoKeyPiece(text: string) {
  for (let i = 0; i + 8 <= KEY.length; i++) {
    assert.equal(
      text.includes(KEY.slice(i, i + 8)),
      false,
      `key piece in: ${text}`,
    );
  }
}

const QUOTA_TEXT =
  "You exceeded your current quota, please check your plan and " +
  "billing details. For more information on this error, head to: " +
  "https://ai.google.dev/gemini-api/docs/rate-limits.";

Deno.test("classifyError() reads RetryInfo from a per-minute 429", () => {
  const failure = classify(apiError(429, {
    code: 429,
    message: QUOTA_TEXT,
    status: "RESOURCE_EXHAUSTED",
    details: [
      {
        "@type": T + "QuotaFailure",
        violations: [{
          quotaMetric:
            "generativelanguage.googleapis.com/generate_content_requests",
          quotaId: "GenerateRequestsPerMinutePerProjectPerModel",
        }],
      },
      { "@type": T + "Help", links: [{ url: "https://ai.google.dev" }] },
      { "@type": T + "RetryInfo", retryDelay: "47s" },
    ],
  }));
  assert.deepEqual(failure, {
    kind: "rate-limited",
    message: QUOTA_TEXT,
    retryAfterMs: 47_000,
  });
});

Deno.test("classifyError() reads 'Please retry in 38.8s' when RetryInfo is missing", () => {
  const failure = classify(apiError(429, {
    code: 429,
    message:
      `${QUOTA_TEXT}\n* Quota exceeded for metric: x, limit: 10\nPlease retry in 38.8s.`,
    status: "RESOURCE_EXHAUSTED",
  }));
  assert.equal(failure.kind, "rate-limited");
  assert.equal(failure.retryAfterMs, 38_800);
  assert.equal(failure.message.includes("\n"), false);
});

Deno.test("classifyError() calls a per-day 429 quota", () => {
  const failure = classify(apiError(429, {
    code: 429,
    message: QUOTA_TEXT,
    status: "RESOURCE_EXHAUSTED",
    details: [
      {
        "@type": T + "QuotaFailure",
        violations: [
          { quotaId: "GenerateRequestsPerMinutePerProjectPerModel" },
          { quotaId: "GenerateRequestsPerDayPerProjectPerModel" },
        ],
      },
      { "@type": T + "RetryInfo", retryDelay: "3600s" },
    ],
  }));
  assert.equal(failure.kind, "quota");
  assert.equal(failure.retryAfterMs, undefined);
});

Deno.test("classifyError() calls a 'limit: 0' 429 quota (no quota at all)", () => {
  const failure = classify(apiError(429, {
    code: 429,
    message:
      `${QUOTA_TEXT}\n* Quota exceeded for metric: free_tier_requests, limit: 0`,
  }));
  assert.equal(failure.kind, "quota");
});

Deno.test("classifyError() scrubs a key echoed by Google", async (t) => {
  await t.step("in the message and a DebugInfo detail", () => {
    const failure = classify(apiError(400, {
      code: 400,
      message: `API key not valid: ${KEY}. Please pass a valid API key.`,
      status: "INVALID_ARGUMENT",
      details: [
        { "@type": T + "ErrorInfo", reason: "API_KEY_INVALID" },
        { "@type": T + "DebugInfo", detail: `Invalid API key: ${KEY}` },
      ],
    }));
    assert.equal(failure.kind, "auth");
    assertNoKeyPiece(failure.message);
    assert.match(failure.message, /\[REDACTED\]/);
  });
  await t.step("in a body that is not JSON", () => {
    const failure = classify(
      new ApiError({
        status: 400,
        message: `bad key ${encodeURIComponent(KEY)} ${KEY.slice(3, 20)}`,
      }),
    );
    assertNoKeyPiece(failure.message);
  });
  await t.step("in a network error's cause", () => {
    const error = new TypeError("fetch failed", {
      cause: new Error(`error sending request for url (http://x/?key=${KEY})`),
    });
    const failure = classify(error);
    assert.equal(failure.kind, "network");
    assertNoKeyPiece(failure.message);
    assert.match(failure.message, /error sending request/);
  });
});

Deno.test("classifyError() tells our timeout from other aborts and failures", () => {
  const abortError = new DOMException(
    "The signal has been aborted",
    "AbortError",
  );
  const timedOut = new AbortController();
  timedOut.abort(new RequestTimeoutError(360_000));
  assert.deepEqual(classify(abortError, timedOut.signal), {
    kind: "timeout",
    message: "No answer from Google within 360 s",
  });
  const cancelled = new AbortController();
  cancelled.abort();
  assert.equal(classify(abortError, cancelled.signal).kind, "network");
  assert.equal(
    classify(new SyntaxError("Unexpected token 'h'")).kind,
    "malformed",
  );
  assert.equal(classify(new TypeError("fetch failed")).kind, "network");
});

Deno.test("parseDuration() and parseRetryText() read Google's delays", () => {
  assert.equal(parseDuration("47s"), 47_000);
  assert.equal(parseDuration("1.5s"), 1_500);
  assert.equal(parseDuration("soon"), undefined);
  assert.equal(parseDuration(3), undefined);
  assert.equal(parseRetryText("Please retry in 38.8s."), 38_800);
  assert.equal(parseRetryText("Please retry in 250ms."), 250);
  assert.equal(parseRetryText("no hint"), undefined);
});
