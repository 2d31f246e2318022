/**
 * Answers of the fake before they become `Response`s, Google's error envelope
 * (gemini-api.md §3.1) and an abortable sleep.
 */

/** One answer of the fake; generateContent answers may carry extra delay. */
export interface Outcome {
  status: number;
  /** JSON body; ignored when `raw` is set. */
  body: unknown;
  /** Text sent as-is, for the truncated-JSON scenarios. */
  raw?: string;
  /** Extra latency for this answer, ms (on top of `latencyMs`). */
  delayMs?: number;
  /** Hold the request open until the client gives up (timeout fault). */
  hold?: boolean;
  /** Answer without the model latency: quota checks run before generation. */
  immediate?: boolean;
}

/** Canonical gRPC status names Google puts beside the HTTP code. */
const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** Builds `{ error: { code, message, status, details? } }` with that HTTP status. */
export function googleError(
  code: number,
  message: string,
  details: readonly unknown[] = [],
): Outcome {
  const error: Record<string, unknown> = {
    code,
    message,
    status: STATUS_NAMES[code] ?? "UNKNOWN",
  };
  // Google omits `details` rather than sending an empty list.
  if (details.length > 0) error.details = details;
  return { status: code, body: { error } };
}

/** Turns an outcome into a JSON response (the SDK parses errors only with this content type). */
export function toResponse(outcome: Outcome): Response {
  // Google pretty-prints its JSON with two spaces.
  const text = outcome.raw ?? JSON.stringify(outcome.body, null, 2);
  return new Response(text, {
    status: outcome.status,
    headers: { "content-type": "application/json; charset=UTF-8" },
  });
}

/** Waits `ms`; resolves false early (and clears its timer) when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(true), ms);
    function onAbort() {
      finish(false);
    }
    function finish(completed: boolean) {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(completed);
    }
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Narrows JSON values to plain objects. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
