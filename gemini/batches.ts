/**
 * Google's Batch API (gemini-api.md §2.6): many image requests in one job,
 * at half price, answered within a day. Create a job from inline rows or an
 * uploaded JSONL file (files.ts), poll it, read its results (inline in the
 * get answer, or a results file: batch_results.ts), cancel or delete it.
 *
 * Plain fetch, like files.ts: the key goes only in the `x-goog-api-key`
 * header, only to the base URL, never in a URL; no redirect is followed;
 * every name from an answer is checked before it is used in a URL.
 */
import { fetchForGoogle } from "./fetch.ts";
import type { Failure } from "./errors.ts";
import { baseOf, httpFailure, Refusal } from "./files_wire.ts";
import { type BatchInput, inputConfigOf, invalid } from "./batch_input.ts";
import { type BatchResult, inlineResults } from "./batch_results.ts";
import {
  BATCH_API_VERSION,
  type BatchJobInfo,
  batchNameOf,
  failureOf,
  fetchUncapped,
  malformed,
  MAX_INLINE_ANSWER_BYTES,
  readBoundedText,
  readJobInfo,
} from "./batch_wire.ts";

export {
  BATCH_API_VERSION,
  BATCH_NAME,
  type BatchJobInfo,
  countOf,
  type JobState,
  jobStateOf,
  MAX_COUNT,
  MAX_INLINE_ANSWER_BYTES,
  ROW_KEY,
} from "./batch_wire.ts";
export {
  BATCH_INPUT_MIME_TYPE,
  type BatchInput,
  batchInputJsonl,
  type BatchRequestRow,
  imageRequestBody,
} from "./batch_input.ts";
export {
  type BatchResult,
  MAX_RESULT_LINE_CHARS,
  readResultsFile,
} from "./batch_results.ts";

/** What every call needs. */
interface BatchCall {
  apiKey: string;
  /** Default: Google's API host. */
  baseUrl?: string;
  signal?: AbortSignal;
}

/** Google's limit for inline input; larger jobs go up as a JSONL file. */
export const MAX_INLINE_REQUEST_BYTES = 20_000_000;

const MODEL_ID = /^[A-Za-z0-9._-]{1,128}$/;
const MAX_DISPLAY_NAME = 512;
const encoder = new TextEncoder();

/** Creates a job: inline rows, or an uploaded JSONL file (`fileName`). */
export async function createBatchJob(
  o: BatchCall & {
    model: string;
    displayName: string;
    input: BatchInput;
  },
): Promise<{ ok: true; job: BatchJobInfo } | { ok: false; failure: Failure }> {
  const { apiKey, signal } = o;
  try {
    const base = baseOf(o.baseUrl);
    const model = o.model.replace(/^models\//, "");
    if (!MODEL_ID.test(model)) throw invalid("Not a model name");
    const body = encoder.encode(JSON.stringify({
      batch: {
        displayName: displayNameOf(o.displayName),
        inputConfig: inputConfigOf(o.input),
      },
    }));
    if ("rows" in o.input && body.length > MAX_INLINE_REQUEST_BYTES) {
      throw invalid(
        "The rows are over Google's 20 MB limit for an inline batch; upload them as a file",
      );
    }
    const response = await fetchForGoogle(
      `${base}/${BATCH_API_VERSION}/models/${model}:batchGenerateContent`,
      {
        method: "POST",
        headers: {
          "x-goog-api-key": apiKey,
          "content-type": "application/json",
        },
        body,
        signal,
      },
    );
    if (!response.ok) throw new Refusal(await httpFailure(response, apiKey));
    const { job } = readJobInfo(JSON.parse(await response.text()), apiKey);
    return { ok: true, job };
  } catch (error) {
    return { ok: false, failure: failureOf(error, apiKey, signal) };
  }
}

/**
 * A job's state and counts; for a finished inline job also its results
 * (`skipped`: entries without a usable key). The answer is read up to
 * MAX_INLINE_ANSWER_BYTES (`maxAnswerBytes`, lowered by tests); a larger
 * one is a clear non-retried failure, not a truncated parse.
 */
export async function getBatchJob(
  o: BatchCall & {
    name: string;
    maxAnswerBytes?: number;
  },
): Promise<
  | {
    ok: true;
    job: BatchJobInfo;
    inlineResults?: BatchResult[];
    skipped: number;
  }
  | { ok: false; failure: Failure }
> {
  const { apiKey, signal } = o;
  try {
    const base = baseOf(o.baseUrl);
    const name = batchNameOf(o.name);
    const response = await fetchUncapped(
      `${base}/${BATCH_API_VERSION}/${name}`,
      { headers: { "x-goog-api-key": apiKey }, signal },
    );
    if (!response.ok) throw new Refusal(await httpFailure(response, apiKey));
    const max = o.maxAnswerBytes ?? MAX_INLINE_ANSWER_BYTES;
    const { job, inline } = readJobInfo(
      await readAnswer(response, name, max),
      apiKey,
    );
    if (job.name !== name) {
      throw malformed("Google answered about another batch job");
    }
    if (!inline) return { ok: true, job, skipped: 0 };
    const { results, skipped } = inlineResults(inline, apiKey);
    return { ok: true, job, inlineResults: results, skipped };
  } catch (error) {
    return { ok: false, failure: failureOf(error, apiKey, signal) };
  }
}

/** Asks Google to cancel a job; rows already done keep their results. */
export async function cancelBatchJob(
  o: BatchCall & { name: string },
): Promise<{ ok: true } | { ok: false; failure: Failure }> {
  const { apiKey, signal } = o;
  try {
    const base = baseOf(o.baseUrl);
    const name = batchNameOf(o.name);
    const response = await fetchForGoogle(
      `${base}/${BATCH_API_VERSION}/${name}:cancel`,
      { method: "POST", headers: { "x-goog-api-key": apiKey }, signal },
    );
    if (!response.ok) throw new Refusal(await httpFailure(response, apiKey));
    await response.body?.cancel();
    return { ok: true };
  } catch (error) {
    return { ok: false, failure: failureOf(error, apiKey, signal) };
  }
}

/** Deletes a job; true when Google confirmed. Never throws. */
export async function deleteBatchJob(
  o: BatchCall & { name: string },
): Promise<boolean> {
  try {
    const base = baseOf(o.baseUrl);
    const name = batchNameOf(o.name);
    const response = await fetchForGoogle(
      `${base}/${BATCH_API_VERSION}/${name}`,
      {
        method: "DELETE",
        headers: { "x-goog-api-key": o.apiKey },
        signal: o.signal,
      },
    );
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

function displayNameOf(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, " ").slice(0, MAX_DISPLAY_NAME);
}

/**
 * The parsed answer; its text (up to `max` bytes) is out of scope once this
 * returns, so a big inline answer is not held twice while it is read.
 */
async function readAnswer(
  response: Response,
  name: string,
  max: number,
): Promise<unknown> {
  const text = await readBoundedText(response, max);
  if (text === undefined) throw tooLarge(name, max);
  return JSON.parse(text);
}

function tooLarge(name: string, max: number): Refusal {
  const MB = 1024 * 1024;
  const bound = max >= MB ? `${Math.round(max / MB)} MB` : `${max} bytes`;
  // Not retried: the answer will not shrink (the 1.2 GB gotcha, §2.6).
  return invalid(
    `Google's answer about ${name} is over ${bound} (its inline images), more than BatchGen reads; keep inline jobs small or use a file input`,
  );
}
