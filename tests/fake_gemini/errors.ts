/**
 * Google's error answers, worded as in the catalogue of gemini-api.md §3.2.
 */
import { googleError, type Outcome } from "./http.ts";

const SERVICE = "generativelanguage.googleapis.com";
const RPC = "type.googleapis.com/google.rpc.";
const QUOTA_TEXT =
  "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit. ";
const QUOTA_HELP = {
  "@type": `${RPC}Help`,
  links: [{
    description: "Learn more about Gemini API quotas",
    url: "https://ai.google.dev/gemini-api/docs/rate-limits",
  }],
};

function errorInfo(reason: string) {
  return {
    "@type": `${RPC}ErrorInfo`,
    reason,
    domain: "googleapis.com",
    metadata: { service: SERVICE },
  };
}

function localized(message: string) {
  return { "@type": `${RPC}LocalizedMessage`, locale: "en-US", message };
}

/** 403 for a request without any key. */
export function missingKeyError(): Outcome {
  return googleError(
    403,
    "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
  );
}

/** 400 API_KEY_INVALID that echoes the key in DebugInfo, as Google has been seen to do. */
export function invalidKeyError(key: string): Outcome {
  const message = "API key not valid. Please pass a valid API key.";
  return googleError(400, message, [
    errorInfo("API_KEY_INVALID"),
    localized(message),
    { "@type": `${RPC}DebugInfo`, detail: `Invalid API key: ${key}` },
  ]);
}

/** 400 for an expired key (reason is still API_KEY_INVALID; no key in the text). */
export function expiredKeyError(): Outcome {
  const message = "API key expired. Please renew the API key.";
  return googleError(400, message, [
    errorInfo("API_KEY_INVALID"),
    localized(message),
  ]);
}

/** 403 for a key Google flagged as leaked. */
export function leakedKeyError(): Outcome {
  return googleError(
    403,
    "Your API key was reported as leaked. Please use another API key.",
  );
}

/** 401 some `AQ.` keys get (ACCESS_TOKEN_TYPE_UNSUPPORTED). */
export function unsupportedKeyError(): Outcome {
  return googleError(
    401,
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    [{ ...errorInfo("ACCESS_TOKEN_TYPE_UNSUPPORTED") }],
  );
}

/** 404 for a model that does not exist or does not support `method`. */
export function modelNotFoundError(
  model: string,
  version: string,
  method: string,
): Outcome {
  return googleError(
    404,
    `models/${model} is not found for API version ${version}, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
  );
}

/** 400 INVALID_ARGUMENT with Google's text. */
export function invalidArgument(message: string): Outcome {
  return googleError(400, message);
}

/** 400 Google's JSON parser gives for a field the API version does not know. */
export function unknownFieldError(field: string, at: string): Outcome {
  const message =
    `Invalid JSON payload received. Unknown name "${field}" at '${at}': Cannot find field.`;
  return googleError(400, message, [{
    "@type": `${RPC}BadRequest`,
    fieldViolations: [{ field: at, description: message }],
  }]);
}

/** Proto3 JSON duration in the "3.2s" form (whole seconds print as "1s"). */
function duration(seconds: number): string {
  return Number.isInteger(seconds) ? `${seconds}s` : `${seconds.toFixed(1)}s`;
}

/** 429 for the per-minute request quota, with QuotaFailure and RetryInfo. */
export function perMinuteQuotaError(
  model: string,
  limit: number,
  waitMs: number,
  windowMs = 60_000,
): Outcome {
  // Rounded up to 0.1 s so a client that waits exactly this long finds a free slot.
  const seconds = Math.max(1, Math.ceil(waitMs / 100)) / 10;
  return googleError(
    429,
    `${QUOTA_TEXT}\n* Quota exceeded for metric: ${SERVICE}/generate_content_paid_tier_requests, limit: ${limit}, model: ${model}\nPlease retry in ${
      seconds.toFixed(1)
    }s.`,
    [
      quotaFailure(
        "generate_content_paid_tier_requests",
        `GenerateRequests${windowName(windowMs)}PerProjectPerModel`,
        model,
        limit,
      ),
      QUOTA_HELP,
      { "@type": `${RPC}RetryInfo`, retryDelay: duration(seconds) },
    ],
  );
}

/** "PerMinute", "PerSecond", or "Per10Seconds" for a window of 10 s. */
function windowName(windowMs: number): string {
  if (windowMs === 60_000) return "PerMinute";
  if (windowMs === 1_000) return "PerSecond";
  if (windowMs % 60_000 === 0) return `Per${windowMs / 60_000}Minutes`;
  return `Per${Math.max(1, Math.round(windowMs / 1000))}Seconds`;
}

/** 429 for the daily quota; RetryInfo points at midnight Pacific, when it resets. */
export function dailyQuotaError(model: string): Outcome {
  const seconds = secondsToPacificMidnight();
  return googleError(
    429,
    `${QUOTA_TEXT}\n* Quota exceeded for metric: ${SERVICE}/generate_content_paid_tier_requests_per_day, limit: 250, model: ${model}\nPlease retry in ${seconds}.0s.`,
    [
      quotaFailure(
        "generate_content_paid_tier_requests_per_day",
        "GenerateRequestsPerDayPerProjectPerModel",
        model,
        250,
      ),
      QUOTA_HELP,
      { "@type": `${RPC}RetryInfo`, retryDelay: `${seconds}s` },
    ],
  );
}

function quotaFailure(
  metric: string,
  quotaId: string,
  model: string,
  limit: number,
) {
  return {
    "@type": `${RPC}QuotaFailure`,
    violations: [{
      quotaMetric: `${SERVICE}/${metric}`,
      quotaId,
      quotaDimensions: { location: "global", model },
      quotaValue: String(limit),
    }],
  };
}

function secondsToPacificMidnight(): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: "America/Los_Angeles",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
    hourCycle: "h23",
  }).formatToParts(new Date());
  const value = (type: string) =>
    Number(parts.find((p) => p.type === type)?.value ?? 0);
  return 86400 -
    (value("hour") * 3600 + value("minute") * 60 + value("second"));
}

/** The error a `[status:N]` or `[fail-…:N]` marker asks for. */
export function statusError(code: number, model: string): Outcome {
  switch (code) {
    case 429:
      // A passing burst over a per-second quota: what an injected 429 is.
      return perMinuteQuotaError(model, 10, 1000, 1000);
    case 500:
      return googleError(
        500,
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
      );
    case 503:
      return googleError(
        503,
        "The model is overloaded. Please try again later.",
      );
    case 504:
      return deadlineError();
    default:
      return googleError(code, `Injected error ${code}.`);
  }
}

/** 504 for a request the server gave up on. */
export function deadlineError(): Outcome {
  return googleError(504, "Deadline expired before operation could complete.");
}

/** 404 for a path the API does not have. */
export function routeNotFoundError(): Outcome {
  return googleError(404, "Method not found.");
}
