/**
 * The results of a batch job (gemini-api.md §2.6), one per row key: inline
 * in the get answer (`{response|error, metadata: {key}}`), or in a JSONL
 * results file (`{key, response|error}` per line) that is streamed line by
 * line, so memory stays near one image however large the file is.
 *
 * Every result is untrusted: a key outside ROW_KEY (or one holding key
 * material) cannot be BatchGen's and is skipped and counted; responses go
 * through parseGenerateResponse like a live answer; error Status objects
 * become Failures like an HTTP error would; every message is scrubbed.
 */
import { createScrubber, type Scrubber } from "../core/scrub.ts";
import { splitLines } from "./batch_lines.ts";
import {
  BATCH_API_VERSION,
  failureOf,
  fetchUncapped,
  malformed,
  MAX_COUNT,
  record,
  ROW_KEY,
  shorten,
} from "./batch_wire.ts";
import { classifyApiError, type Failure } from "./errors.ts";
import { baseOf, FILE_NAME, httpFailure, Refusal } from "./files_wire.ts";
import {
  type ParsedOutcome as Outcome,
  parseGenerateResponse,
} from "./generate.ts";

/** One row's result: an image or a failure (with usage when known). */
export type BatchResult = { key: string; outcome: Outcome };

/** The longest line of a results file that is read: a 4K image, with room. */
export const MAX_RESULT_LINE_CHARS = 64 * 1024 * 1024;
/** The most lines a results file may have: no job has more rows. */
export const MAX_RESULT_LINES = MAX_COUNT;

const MAX_MESSAGE = 600;

// google.rpc.Code by number, and the HTTP status Google maps each to. A
// Status that says OK yet is an error is Google's confusion: a server error.
const CODES = [
  ["OK", 500],
  ["CANCELLED", 499],
  ["UNKNOWN", 500],
  ["INVALID_ARGUMENT", 400],
  ["DEADLINE_EXCEEDED", 504],
  ["NOT_FOUND", 404],
  ["ALREADY_EXISTS", 409],
  ["PERMISSION_DENIED", 403],
  ["RESOURCE_EXHAUSTED", 429],
  ["FAILED_PRECONDITION", 400],
  ["ABORTED", 409],
  ["OUT_OF_RANGE", 400],
  ["UNIMPLEMENTED", 501],
  ["INTERNAL", 500],
  ["UNAVAILABLE", 503],
  ["DATA_LOSS", 500],
  ["UNAUTHENTICATED", 401],
] as const;

/** The result in one inline entry or file line; undefined without a usable key. */
export function resultOf(
  entry: unknown,
  apiKey: string,
  scrubber: Scrubber = createScrubber([apiKey]),
): BatchResult | undefined {
  const value = record(entry);
  const key = value?.key ?? record(value?.metadata)?.key;
  if (typeof key !== "string" || !ROW_KEY.test(key)) return undefined;
  // Never hand on a "key" that is key material, whatever its shape.
  if (scrubber.scrub(key) !== key) return undefined;
  // Both present is ambiguous: the error is the answer that claims less.
  const status = record(value?.error) ?? record(value?.status);
  if (status) {
    return {
      key,
      outcome: { ok: false, failure: statusFailure(status, scrubber) },
    };
  }
  if (value?.response !== undefined) {
    return { key, outcome: parseGenerateResponse(value.response, apiKey) };
  }
  return {
    key,
    outcome: {
      ok: false,
      failure: {
        kind: "malformed",
        message:
          "Google's result for this row had neither a response nor an error",
      },
    },
  };
}

/** The results of an inline job's entries, and how many were skipped. */
export function inlineResults(
  entries: readonly unknown[],
  apiKey: string,
): { results: BatchResult[]; skipped: number } {
  const scrubber = createScrubber([apiKey]);
  const results: BatchResult[] = [];
  let skipped = Math.max(0, entries.length - MAX_COUNT);
  for (const entry of entries.slice(0, MAX_COUNT)) {
    const result = resultOf(entry, apiKey, scrubber);
    if (result) results.push(result);
    else skipped++;
  }
  return { results, skipped };
}

/**
 * A row's error Status as a Failure, like the same error over HTTP. Its
 * `code` is a google.rpc.Code (0–16) in Google's Status, an HTTP status in
 * the HTTP envelope (which some answers copy); `status` names it either way.
 */
export function statusFailure(
  status: Record<string, unknown>,
  scrubber: Scrubber,
): Failure {
  const name = typeof status.status === "string"
    ? status.status.toUpperCase()
    : "";
  const code = status.code;
  const http = CODES.find(([n]) => n === name)?.[1] ??
    (typeof code === "number" && Number.isInteger(code)
      ? code >= 0 && code < CODES.length
        ? CODES[code]![1]
        : code >= 400 && code <= 599
        ? code
        : 500
      : 500);
  return classifyApiError(
    http,
    {
      message: typeof status.message === "string" ? status.message : undefined,
      details: Array.isArray(status.details) ? status.details : undefined,
    },
    (text) => shorten(scrubber.scrub(text), MAX_MESSAGE),
  );
}

/** What reading a results file delivered, or why it stopped. */
export type ResultsRead =
  | { ok: true; count: number; skipped: number }
  | { ok: false; failure: Failure };

/** What a results read needs besides the bytes. */
export interface ResultsOptions {
  apiKey: string;
  signal?: AbortSignal;
  /** Awaited before the next line is read; what it throws is rethrown. */
  onResult: (result: BatchResult) => Promise<void>;
  /** Default MAX_RESULT_LINE_CHARS; longer lines are skipped. */
  maxLineChars?: number;
}

/**
 * Streams a responses file (`files/…:download?alt=media`) line by line,
 * never holding the whole file. A cut-off download is a "network" failure
 * after every complete line before the cut was delivered, so a caller can
 * read the file again and skip the keys it already has.
 */
export async function readResultsFile(
  o: ResultsOptions & { baseUrl?: string; name: string },
): Promise<ResultsRead> {
  const { apiKey, signal } = o;
  try {
    const base = baseOf(o.baseUrl);
    if (!FILE_NAME.test(o.name)) {
      throw new Refusal({
        kind: "invalid-request",
        message: "Not a results file name (expected files/<id>)",
      });
    }
    const response = await fetchUncapped(
      `${base}/${BATCH_API_VERSION}/${o.name}:download?alt=media`,
      { headers: { "x-goog-api-key": apiKey }, signal },
    );
    if (!response.ok) throw new Refusal(await httpFailure(response, apiKey));
    if (!response.body) return { ok: true, count: 0, skipped: 0 };
    return await readResultStream(response.body, o);
  } catch (error) {
    return { ok: false, failure: failureOf(error, apiKey, signal) };
  }
}

/** The JSONL results in `body`, delivered one at a time to `onResult`. */
export async function readResultStream(
  body: ReadableStream<Uint8Array<ArrayBuffer>>,
  o: ResultsOptions,
): Promise<ResultsRead> {
  const scrubber = createScrubber([o.apiKey]);
  const max = o.maxLineChars ?? MAX_RESULT_LINE_CHARS;
  let count = 0;
  let skipped = 0;
  let lines = 0;
  let delivering = false;
  try {
    const text = body.pipeThrough(new TextDecoderStream());
    for await (const line of splitLines(text, max)) {
      if (++lines > MAX_RESULT_LINES) {
        throw malformed("The results file has more lines than any batch job");
      }
      if (line?.trim() === "") continue;
      const result = line === null
        ? undefined
        : resultOf(parseLine(line), o.apiKey, scrubber);
      if (!result) {
        skipped++;
        continue;
      }
      delivering = true;
      await o.onResult(result);
      delivering = false;
      count++;
    }
    return { ok: true, count, skipped };
  } catch (error) {
    // The caller's own trouble is not Google's: it goes back unchanged.
    if (delivering) throw error;
    if (error instanceof Refusal || o.signal?.aborted) {
      return { ok: false, failure: failureOf(error, o.apiKey, o.signal) };
    }
    const why = error instanceof Error ? error.message : String(error);
    const message =
      `The results download was cut off after ${count} results: ${why}`;
    return {
      ok: false,
      failure: {
        kind: "network",
        message: shorten(scrubber.scrub(message), MAX_MESSAGE),
      },
    };
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
