/**
 * Offline fake of Google's Gemini API (generativelanguage.googleapis.com) for
 * tests and benchmarks, faithful to the wire format in
 * /work/shared/docs/gemini-api.md. Point `@google/genai` at it with
 * `httpOptions.baseUrl: fake.url`.
 *
 * Standalone: `deno run -A tests/fake_gemini.ts --port 8787 --latency 250 --rpm 60`
 * prints its URL; run BatchGen with `BATCHGEN_GEMINI_BASE_URL=<that URL>`.
 *
 * Prompt markers (see tests/fake_gemini/scenarios.ts): `[block:REASON]`,
 * `[block-prompt:REASON]`, `[text-only]`, `[status:N]`, `[daily-quota]`,
 * `[fail-once:N]`, `[fail-times:K:N]`, `[slow:MS]`, `[malformed]`,
 * `[thoughts]`, `[no-thoughts]`.
 *
 * Files API (tests/fake_gemini/files.ts): resumable upload, get, list,
 * delete and download. generateContent checks reference parts (a `fileData`
 * part must name a live file, `inlineData` must be base64) and records the
 * images it received on each request (`RecordedRequest.inputImages`).
 *
 * Batch API (tests/fake_gemini/batches.ts): inline or JSONL-file jobs run
 * as `batch` and `[batch:…]` markers script; `fake.batchJobs()` lists them.
 */
import { parseArgs } from "node:util";
import { handleRequest } from "./fake_gemini/router.ts";
import type {
  FakeBatchJob,
  FakeGeminiBatchOptions,
} from "./fake_gemini/batch_job.ts";
import { recordedJobs } from "./fake_gemini/batches.ts";
import { FAULT_KINDS, type FaultKind } from "./fake_gemini/scenarios.ts";
import { createState } from "./fake_gemini/state.ts";

export { sha256Hex } from "./fake_gemini/files.ts";
export { readPngInfo } from "./fake_gemini/png.ts";
export { MARKERS } from "./fake_gemini/scenarios.ts";
export { CLIENT_CLOSED } from "./fake_gemini/router.ts";
export type {
  FakeBatchJob,
  FakeGeminiBatchOptions,
} from "./fake_gemini/batch_job.ts";

/** How a fake behaves; every field is optional. */
export interface FakeGeminiOptions {
  /** Fixed latency added to every generateContent answer, ms. Default 0. */
  latencyMs?: number;
  /** At most N generateContent requests per rolling window; excess gets 429 with RetryInfo. Default: none. */
  rateLimitPerMinute?: number;
  /** Length of the rate window, ms, shortened for fast tests. Default 60000. */
  rateWindowMs?: number;
  /**
   * Request quotas, all enforced at once like a project's per-second and
   * per-minute limits (sliding windows, shared by every caller of this
   * fake; a refused request counts against none). Replaces the two above.
   */
  quotas?: { limit: number; windowMs: number }[];
  /** Fault probabilities 0..1 on generateContent, drawn with a PRNG seeded by `seed`. */
  faults?: {
    rate429?: number;
    rate500?: number;
    rate503?: number;
    timeout?: number;
    malformed?: number;
  };
  /** PRNG seed for `faults`. Default 1. */
  seed?: number;
  /** Keys answered 400 API_KEY_INVALID with the key echoed in DebugInfo. Default: keys starting "bad-". */
  invalidKeys?: string[];
  /** Keys answered 403 "reported as leaked". */
  leakedKeys?: string[];
  /** Keys answered 400 "API key expired". */
  expiredKeys?: string[];
  /** Keys answered 429 with the per-day QuotaFailure on generateContent. */
  dailyQuotaKeys?: string[];
  /** Keys answered 401 ACCESS_TOKEN_TYPE_UNSUPPORTED (seen with some `AQ.` keys). */
  unsupportedKeys?: string[];
  /** Approximate size of each final image file in bytes (noise padding). Default: small images. */
  imageBytes?: number;
  /** Send thought parts before the final image. Default true for gemini-3* and nano-banana models. */
  thoughts?: boolean;
  /** Model ids the key can see. Default: core/catalog.ts plus "gemini-2.5-flash" (text); no Imagen. */
  models?: string[];
  /**
   * Uploaded files answer state PROCESSING in the upload answer and to this
   * many GETs after it, then ACTIVE; generateContent refuses them until then
   * (400 FAILED_PRECONDITION). Google does this with videos; images are
   * usually ACTIVE at once. Default 0.
   */
  fileProcessingGets?: number;
  /** Batch jobs: states over GETs, final state, results download fault (see the type). */
  batch?: FakeGeminiBatchOptions;
  /** Port to listen on, 127.0.0.1 only. Default 0 (random). */
  port?: number;
  /** Called after each answer with its record (the CLI logs with it). */
  onRequest?: (request: RecordedRequest) => void;
}

/** One request the fake received; `status` is 0 until answered, 499 when a client gave up on a held (timeout-fault) request. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed JSON body, the raw text when it was not JSON, null when empty or binary. */
  body: unknown;
  /** Length of a binary body (a Files API upload chunk), which `body` does not hold. */
  bodyBytes?: number;
  /**
   * generateContent only: the reference images the request carried, in part
   * order, as far as the fake could read them (a dead file or bad base64
   * ends the list and the request gets Google's 403 / 400).
   */
  inputImages?: InputImage[];
  status: number;
}

/** One reference image a generateContent request carried. */
export interface InputImage {
  /** `inlineData` (bytes in the request) or `fileData` (an uploaded file). */
  kind: "inline" | "file";
  /** Lowercase hex SHA-256 of the image bytes (the decoded inline data, or the uploaded file's); compare with `sha256Hex(bytes)`. */
  sha256: string;
  /** The part's mimeType (for a file without one, the file's). */
  mimeType: string;
  /** "files/<id>" for kind "file". */
  fileName?: string;
}

/** Files API counters. */
export interface FakeGeminiFiles {
  /** Uploads that finished (finalized with the announced byte count). */
  uploaded: number;
  /** Files deleted through `DELETE /{v}/files/{id}`. */
  deleted: number;
  /** Names ("files/<id>") of files that still exist (batch results files too), oldest first. */
  live: string[];
}

/** generateContent counters. */
export interface FakeGeminiStats {
  /** generateContent requests received. */
  generate: number;
  /** generateContent answers by HTTP status, e.g. {200: 10, 429: 2}. */
  byStatus: Record<number, number>;
  /** Most generateContent requests ever processed at the same time. */
  maxInFlight: number;
}

/** A running fake. */
export interface FakeGemini {
  /** Base URL without trailing slash or version, e.g. "http://127.0.0.1:43123". */
  url: string;
  /** Every request received, in order, with the status it was answered. */
  requests: RecordedRequest[];
  /** Counts of generateContent requests and answers. */
  stats(): FakeGeminiStats;
  /**
   * Files API counters: a run that uploads each reference once and cleans
   * up ends with `uploaded` = number of distinct references, `deleted` the
   * same, `live` empty. Per-request references: `requests[i].inputImages`.
   */
  files(): FakeGeminiFiles;
  /** Every batch job created (deleted ones too), oldest first. Batch rows do not count in `stats()`. */
  batchJobs(): FakeBatchJob[];
  /** Ends held requests and stops the server. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a fake Gemini API on 127.0.0.1. */
export function startFakeGemini(options: FakeGeminiOptions = {}): FakeGemini {
  const state = createState(options);
  const server = Deno.serve(
    { port: options.port ?? 0, hostname: "127.0.0.1", onListen() {} },
    (request) => handleRequest(state, request),
  );
  let closed: Promise<void> | undefined;
  function close() {
    closed ??= (async () => {
      state.closing.abort();
      await server.shutdown();
    })();
    return closed;
  }
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests: state.requests,
    stats() {
      return {
        generate: state.generate,
        byStatus: { ...state.byStatus },
        maxInFlight: state.maxInFlight,
      };
    },
    files() {
      return {
        uploaded: state.filesUploaded,
        deleted: state.filesDeleted,
        live: [...state.files.keys()],
      };
    },
    batchJobs: () => recordedJobs(state),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function parseFaults(text: string | undefined): FakeGeminiOptions["faults"] {
  if (!text) return undefined;
  const faults: Partial<Record<FaultKind, number>> = {};
  for (const pair of text.split(",")) {
    const [name = "", rate = ""] = pair.split("=");
    const kind = FAULT_KINDS.find((k) => k === name || k === `rate${name}`);
    if (!kind) {
      throw new TypeError(`Cannot parse --faults: unknown fault "${name}"`);
    }
    faults[kind] = Number(rate);
  }
  return faults;
}

async function runCli(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: "8787" },
      latency: { type: "string" },
      rpm: { type: "string" },
      seed: { type: "string" },
      "image-bytes": { type: "string" },
      faults: { type: "string" }, // e.g. "429=0.1,503=0.05,timeout=0.01"
      quiet: { type: "boolean", default: false },
    },
  });
  const encoder = new TextEncoder();
  const number = (text: string | undefined) =>
    text === undefined ? undefined : Number(text);
  const fake = startFakeGemini({
    port: Number(values.port),
    latencyMs: number(values.latency),
    rateLimitPerMinute: number(values.rpm),
    seed: number(values.seed),
    imageBytes: number(values["image-bytes"]),
    faults: parseFaults(values.faults),
    onRequest: values.quiet ? undefined : (r) => {
      Deno.stderr.writeSync(
        encoder.encode(`${r.method} ${r.path} -> ${r.status}\n`),
      );
    },
  });
  await Deno.stdout.write(encoder.encode(`${fake.url}\n`));
  const stop = () => fake.close().then(() => Deno.exit(0));
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}

if (import.meta.main) await runCli(Deno.args);
