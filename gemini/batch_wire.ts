/**
 * The wire side of the Batch API client (batches.ts, gemini-api.md §2.6):
 * job names, states and counts read out of Google's answers. Every answer is
 * untrusted: names are checked before they go into a URL, counts (int64, so
 * JSON strings) are clamped, and the job's error text is scrubbed of the key.
 */
import { createScrubber } from "../core/scrub.ts";
import { fetchNoRedirect } from "./fetch.ts";
import { classifyError, type Failure } from "./errors.ts";
import { FILE_NAME, Refusal } from "./files_wire.ts";

/** Pinned like the SDK client: Google's batch docs and samples are v1beta. */
export const BATCH_API_VERSION = "v1beta";

/** A job's name as Google gives it; only such a name goes into a URL. */
export const BATCH_NAME = /^batches\/[A-Za-z0-9_-]{1,128}$/;

/**
 * A row's key. BatchGen makes its own keys; an answer's key outside this
 * shape cannot be one of them, so its result is skipped.
 */
export const ROW_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

/** The most any count (or list of results) is believed: far above any job. */
export const MAX_COUNT = 1_000_000;

/**
 * The most BatchGen reads of a `batches.get` answer. An inline job's answer
 * holds every image in base64 (150 × 2K images came to ~1.2 GB, §2.6); a
 * bound under V8's ~512 MB string limit, and far above a small job's answer.
 */
export const MAX_INLINE_ANSWER_BYTES = 256 * 1024 * 1024;

/** Where a job is, as BatchGen tells it apart. */
export type JobState =
  | "pending"
  | "running"
  | "succeeded"
  | "failed"
  | "cancelled"
  | "expired"
  | "unknown";

/** One batch job as Google described it, checked and clamped. */
export interface BatchJobInfo {
  /** "batches/<id>". */
  name: string;
  state: JobState;
  requestCount: number;
  succeeded: number;
  failed: number;
  pending: number;
  output?: { inline: true } | { responsesFile: string /* files/… */ };
  /** Why the job failed; scrubbed and short. */
  error?: string;
}

// Google's BATCH_STATE_* words and the SDK's JOB_STATE_* ones (some of them
// Vertex-only), without their prefix; anything else is "unknown".
const STATES = new Map<string, JobState>([
  ["PENDING", "pending"],
  ["QUEUED", "pending"],
  ["PAUSED", "pending"],
  ["RUNNING", "running"],
  ["UPDATING", "running"],
  // Still working until Google says CANCELLED.
  ["CANCELLING", "running"],
  ["CANCELING", "running"],
  ["SUCCEEDED", "succeeded"],
  // The counts tell how many rows failed.
  ["PARTIALLY_SUCCEEDED", "succeeded"],
  ["FAILED", "failed"],
  ["CANCELLED", "cancelled"],
  ["CANCELED", "cancelled"],
  ["EXPIRED", "expired"],
]);

const MAX_JOB_ERROR = 300;

/** The JobState for a wire state, in any case or prefix spelling. */
export function jobStateOf(wire: unknown): JobState {
  if (typeof wire !== "string" || wire.length > 64) return "unknown";
  const word = wire.trim().toUpperCase().replace(/[\s.-]+/g, "_")
    .replace(/^(BATCH_STATE_|JOB_STATE_|STATE_)/, "");
  return STATES.get(word) ?? "unknown";
}

/** An int64 count (a JSON string, or a number) clamped to 0..MAX_COUNT. */
export function countOf(value: unknown): number {
  const n = typeof value === "string"
    ? /^\s*\d{1,64}\s*$/.test(value) ? Number(value) : NaN
    : typeof value === "number"
    ? value
    : NaN;
  if (!Number.isFinite(n) || n <= 0) return 0;
  return Math.min(Math.floor(n), MAX_COUNT);
}

/**
 * The job in a create, get or cancel answer: an Operation (`name`, job
 * fields under `metadata`, output again under `response` when done) or the
 * bare job resource. `inline` holds the raw inline results, if any.
 */
export function readJobInfo(
  body: unknown,
  apiKey: string,
): { job: BatchJobInfo; inline?: unknown[] } {
  const outer = record(body);
  const meta = record(outer?.metadata) ?? outer;
  const name = outer?.name ?? meta?.name;
  if (typeof name !== "string" || !BATCH_NAME.test(name)) {
    throw malformed("Google's answer about the batch job had no valid name");
  }
  const stats = record(meta?.batchStats);
  const requestCount = countOf(stats?.requestCount);
  // A part above the whole is absurd; 0 may be proto3 leaving a field out.
  const part = (value: unknown) =>
    requestCount > 0 ? Math.min(countOf(value), requestCount) : countOf(value);
  const job: BatchJobInfo = {
    name,
    state: jobStateOf(meta?.state),
    requestCount,
    succeeded: part(stats?.successfulRequestCount),
    failed: part(stats?.failedRequestCount),
    pending: part(stats?.pendingRequestCount),
  };
  const error = jobError(record(outer?.error) ?? record(meta?.error), apiKey);
  if (error) job.error = error;
  // Google duplicates the output under `response` (thread 174261).
  const output = record(meta?.output) ?? record(outer?.response);
  if (output?.responsesFile !== undefined) {
    const file = output.responsesFile;
    if (typeof file !== "string" || !FILE_NAME.test(file)) {
      throw malformed("Google's answer named no valid results file");
    }
    job.output = { responsesFile: file };
    return { job };
  }
  if (output?.inlinedResponses === undefined) return { job };
  job.output = { inline: true };
  const wrapper = output.inlinedResponses;
  // Proto3 JSON leaves an empty list out: `{}` is no results yet.
  const list = Array.isArray(wrapper)
    ? wrapper
    : record(wrapper)?.inlinedResponses;
  return { job, inline: Array.isArray(list) ? list : [] };
}

/** The job's `error` Status as one short, scrubbed line. */
function jobError(
  status: Record<string, unknown> | undefined,
  apiKey: string,
): string | undefined {
  if (!status) return undefined;
  const text = typeof status.message === "string" && status.message.trim()
    ? status.message
    : `Google reported an error (${String(status.status ?? status.code)})`;
  return shorten(createScrubber([apiKey]).scrub(text), MAX_JOB_ERROR);
}

/** `name` if it is a job name, else a Refusal (nothing is sent). */
export function batchNameOf(name: string): string {
  if (BATCH_NAME.test(name)) return name;
  throw new Refusal({
    kind: "invalid-request",
    message: "Not a batch job name (expected batches/<id>)",
  });
}

/** A Google call whose successful body the caller bounds itself. */
export function fetchUncapped(url: string, init: RequestInit) {
  return fetchNoRedirect(url, init, undefined);
}

/** The body as text, or undefined (and the rest unread) past `maxBytes`. */
export async function readBoundedText(
  response: Response,
  maxBytes: number,
): Promise<string | undefined> {
  if (!response.body) return "";
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let seen = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    seen += value.length;
    if (seen > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    parts.push(decoder.decode(value, { stream: true }));
  }
  parts.push(decoder.decode());
  return parts.join("");
}

/** A Refusal's failure, or the classified thrown error (scrubbed). */
export function failureOf(
  error: unknown,
  apiKey: string,
  signal: AbortSignal | undefined,
): Failure {
  return error instanceof Refusal
    ? error.failure
    : classifyError(error, { apiKey, signal });
}

export function malformed(message: string): Refusal {
  return new Refusal({ kind: "malformed", message });
}

export function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : undefined;
}

/** On one line, at most `max` characters. */
export function shorten(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length > max ? oneLine.slice(0, max - 1) + "…" : oneLine;
}
