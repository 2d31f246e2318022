/**
 * Turns whatever `@google/genai` or `fetch` throws into a `Failure` (gemini-api.md §3).
 * The SDK throws `ApiError` with the numeric HTTP status and the whole JSON
 * error body stringified as its message; network failures and aborts come
 * through as the underlying fetch errors. Every message is scrubbed (K5):
 * Google's invalid-key errors can echo the key in a DebugInfo detail.
 */
import { RedirectRefusedError } from "./fetch.ts";
import type { FailureKind } from "../core/protocol.ts";
import { scrub } from "../core/scrub.ts";
import { quotaWindowMs } from "../core/rate_limiter.ts";

/** Why one request did not give an image. */
export interface Failure {
  kind: FailureKind;
  /** Short, readable and already scrubbed. */
  message: string;
  /** For "rate-limited": how long Google asked us to wait. */
  retryAfterMs?: number;
  /** For "rate-limited": the quota that tripped, from `QuotaFailure`. */
  quotaLimit?: number;
  quotaWindowMs?: number;
}

/** The reason our own per-request timer aborts a request with. */
export class RequestTimeoutError extends Error {
  override name = "RequestTimeoutError";
  constructor(readonly timeoutMs: number) {
    super(`No answer from Google within ${Math.round(timeoutMs / 1000)} s`);
  }
}

const MAX_MESSAGE = 600;
const TYPE_PREFIX = "type.googleapis.com/google.rpc.";

export interface ErrorBody {
  code?: number;
  message?: string;
  status?: string;
  details?: Record<string, unknown>[];
}

/** Classifies a thrown error; `signal` tells our timeout from other aborts. */
export function classifyError(
  error: unknown,
  options: { apiKey: string; signal?: AbortSignal },
): Failure {
  const clean = (text: string) => shorten(scrub(text, [options.apiKey]));
  const reason = options.signal?.aborted ? options.signal.reason : undefined;
  if (reason instanceof RequestTimeoutError) {
    return { kind: "timeout", message: reason.message };
  }
  if (error instanceof RedirectRefusedError) {
    // Not retried: the next attempt would be redirected the same way.
    return { kind: "invalid-request", message: error.message };
  }
  if (isSdkApiError(error)) {
    return classifyApiError(
      error.status,
      parseGoogleError(error.message),
      clean,
    );
  }
  if (error instanceof Error && error.name === "AbortError") {
    return { kind: "network", message: "The request was cancelled" };
  }
  if (error instanceof SyntaxError) {
    return {
      kind: "malformed",
      message: clean(`Cannot read Google's answer: ${error.message}`),
    };
  }
  return {
    kind: "network",
    message: clean(`Cannot reach Google: ${describe(error)}`),
  };
}

/** Classifies an HTTP error status plus Google's error envelope. */
export function classifyApiError(
  status: number,
  body: ErrorBody,
  clean: (text: string) => string,
): Failure {
  const message = clean(body.message?.trim() || `HTTP ${status}`);
  const details = Array.isArray(body.details) ? body.details : [];
  const errorInfo = detail(details, "ErrorInfo");
  if (status === 400) {
    const invalidKey = errorInfo?.reason === "API_KEY_INVALID" ||
      /API key (not valid|expired|not found)/i.test(body.message ?? "");
    return { kind: invalidKey ? "auth" : "invalid-request", message };
  }
  if (status === 401 || status === 403) return { kind: "auth", message };
  if (status === 429) {
    return classifyQuota(details, body.message ?? "", message);
  }
  // 408 is Google's (rare) request timeout: transient, unlike other 4xx.
  if (status === 408) return { kind: "timeout", message };
  if (status >= 500) return { kind: "server", message };
  return { kind: "invalid-request", message };
}

function classifyQuota(
  details: Record<string, unknown>[],
  rawMessage: string,
  message: string,
): Failure {
  const quota = detail(details, "QuotaFailure");
  const violations = Array.isArray(quota?.violations) ? quota.violations : [];
  const perDay = violations.some((v) =>
    typeof v?.quotaId === "string" && v.quotaId.includes("PerDay")
  );
  // "limit: 0" means the project has no quota at all (e.g. free tier image
  // output): waiting will not help, so it stops the batch like a daily quota.
  if (perDay || /\blimit: 0\b/.test(rawMessage)) {
    return { kind: "quota", message };
  }
  const retryInfo = detail(details, "RetryInfo");
  const retryAfterMs = parseDuration(retryInfo?.retryDelay) ??
    parseRetryText(rawMessage);
  const failure: Failure = { kind: "rate-limited", message };
  if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
  // The quota that tripped, when Google names it: what the limiter paces to.
  // Its number is `quotaValue`, or the message's "limit: N" when the
  // violation leaves it out (the form gemini-api.md §3.2 shows).
  const stated = /\blimit: (\d+)\b/.exec(rawMessage)?.[1];
  for (const v of violations) {
    const limit = Number(v?.quotaValue ?? stated);
    const windowMs = typeof v?.quotaId === "string"
      ? quotaWindowMs(v.quotaId)
      : undefined;
    if (limit > 0 && windowMs) {
      failure.quotaLimit = limit;
      failure.quotaWindowMs = windowMs;
      break;
    }
  }
  return failure;
}

/** Parses a protobuf Duration string such as "47s" or "1.5s" into ms. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(value);
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

/** Reads "Please retry in 38.8s" (or "…in 250ms") from an error text. */
export function parseRetryText(text: string): number | undefined {
  const match = /retry in (\d+(?:\.\d+)?)\s*(ms|s)\b/i.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  return Math.round(match[2]!.toLowerCase() === "ms" ? value : value * 1000);
}

function detail(
  details: Record<string, unknown>[],
  type: string,
): Record<string, unknown> | undefined {
  return details.find((d) => d?.["@type"] === TYPE_PREFIX + type);
}

/**
 * Reads Google's `{ error: { code, message, status, details } }` envelope
 * out of an SDK error message; a text that is not one becomes the message.
 */
export function parseGoogleError(text: string): ErrorBody {
  try {
    const parsed = JSON.parse(text);
    const error = parsed?.error;
    if (error && typeof error === "object") {
      return {
        code: typeof error.code === "number" ? error.code : undefined,
        message: typeof error.message === "string" ? error.message : undefined,
        status: typeof error.status === "string" ? error.status : undefined,
        details: Array.isArray(error.details) ? error.details : undefined,
      };
    }
  } catch {
    // Not JSON: fall through and use the raw text as the message.
  }
  return { message: text };
}

/**
 * The SDK's `ApiError` (HTTP status + Google's error body as its message),
 * recognised by shape so this module does not load `@google/genai`: the
 * generator's image path never needs the SDK.
 */
function isSdkApiError(
  error: unknown,
): error is Error & { status: number } {
  return error instanceof Error && error.name === "ApiError" &&
    typeof (error as { status?: unknown }).status === "number";
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // fetch() hides the useful part ("connection refused") in `cause`.
  const cause = error.cause instanceof Error ? error.cause.message : "";
  return cause ? `${error.message} (${cause})` : error.message;
}

function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > MAX_MESSAGE
    ? oneLine.slice(0, MAX_MESSAGE - 1) + "…"
    : oneLine;
}
