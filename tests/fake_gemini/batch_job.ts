/**
 * A Batch API job (gemini-api.md §2.6): what the fake stores for it, the
 * options that script it, and the operation-like resource Google shows for
 * it on create, get and list.
 */
import type { InputImage } from "../fake_gemini.ts";

const BATCH_TYPE =
  "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch";
const OUTPUT_TYPE =
  "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput";

/**
 * How the fake's batch jobs behave (`FakeGeminiOptions.batch`). Prompts
 * script them too. Job-level markers, in the displayName or anywhere in any
 * row's request: `[batch:fail]`, `[batch:expire]`, `[batch:cancel]` end the
 * job FAILED / EXPIRED / CANCELLED whatever `finalState` says;
 * `[batch:too-large]` makes GETs of the done inline job answer 503 (§2.6's
 * gotcha). Row markers act per row: `[status:N]`, `[daily-quota]` and
 * `[fail-once:N]` / `[fail-times:K:N]` make that row an `error` (a
 * google.rpc.Status with the gRPC code, e.g. 13 for 500, 14 for 503);
 * `[block:…]`, `[block-prompt:…]`, `[text-only]` and `[thoughts]` shape its
 * `response`; `[slow:MS]` and `[malformed]` do nothing in a batch.
 */
export interface FakeGeminiBatchOptions {
  /**
   * GETs of a job that answer BATCH_STATE_PENDING, then as many that answer
   * RUNNING, before a GET finds it done. Create always answers PENDING;
   * only `GET /{v}/batches/{id}` advances a job (list does not; cancel ends
   * it). Default 0: the first GET finds the job done, as the fake's first
   * Batch stub did and tests/fake_gemini_test.ts still expects.
   */
  getsPerState?: number;
  /**
   * How every job ends unless a job-level marker says otherwise. FAILED has
   * `error` and no output; EXPIRED and CANCELLED carry results for the first
   * half of the rows only (floor(n / 2), so none for a one-row job) and the
   * rest stay pending. Default SUCCEEDED.
   */
  finalState?: FinalState;
  /**
   * The first `files/{id}:download?alt=media` of each batch results file
   * fails: "cut" (or true) answers 200 with the full Content-Length but
   * sends only the first half of the bytes and closes, so the client's body
   * read throws; "503" answers 503 UNAVAILABLE. Later downloads work.
   */
  downloadFailOnce?: boolean | "cut" | "503";
}

/** A job's terminal state, without the BATCH_STATE_ prefix. */
export type FinalState = "SUCCEEDED" | "FAILED" | "CANCELLED" | "EXPIRED";

/** What tests read of a job through `fake.batchJobs()`. */
export interface FakeBatchJob {
  /** "batches/<id>". */
  name: string;
  /** Current wire state, e.g. "BATCH_STATE_RUNNING". */
  state: string;
  displayName: string;
  /** Model id without "models/". */
  model: string;
  requestCount: number;
  inputKind: "inline" | "file";
  /** "files/<id>" of the JSONL input (file input only). */
  inputFile?: string;
  /** "files/batch-<id>" once a file-input job has results. */
  responsesFile?: string;
  /** Per row, in input order: its key and, once run, its reference images. */
  rows: { key?: string; inputImages?: InputImage[] }[];
  /** `GET /{v}/batches/{id}` requests this job answered. */
  gets: number;
  /** Deleted jobs stay in this list; the API answers 404 for them. */
  deleted: boolean;
}

/** google.rpc.Status as Google puts it in batch output (gRPC code). */
export interface RpcStatus {
  code: number;
  message: string;
  details?: unknown[];
}

/** One input row: an inline request or one JSONL line. */
export interface BatchRow {
  key?: string;
  /** Inline rows' `metadata`, echoed in their output. */
  metadata?: unknown;
  request?: unknown;
  /** Why the row cannot run (a broken JSONL line). */
  problem?: RpcStatus;
  /** Reference images, read when the row runs. */
  inputImages?: InputImage[];
}

/** A row's outcome: a GenerateContentResponse or a Status. */
export type RowResult = { response: unknown } | { error: RpcStatus };

/** One stored batch job. */
export interface BatchJob {
  id: string;
  version: string;
  /** The fake's own origin, for the results file's `uri`. */
  origin: string;
  model: string;
  displayName: string;
  input: { kind: "inline" } | { kind: "file"; fileName: string };
  rows: BatchRow[];
  /** The terminal state markers or options ask for. */
  planned: FinalState;
  /** `[batch:too-large]`: a done inline job's GET answers 503. */
  tooLarge: boolean;
  state: string;
  createTime: string;
  updateTime: string;
  endTime?: string;
  gets: number;
  /** One per row that finished, in row order; the rest are pending. */
  results?: RowResult[];
  responsesFile?: string;
  error?: RpcStatus;
  deleted: boolean;
  /** The results file's failed download was served (`downloadFailOnce`). */
  downloadFaulted: boolean;
  /** Set when the job starts to end, so it ends once. */
  finishing?: Promise<void>;
}

/** The wire name of a state. */
export function wireState(state: FinalState | "PENDING" | "RUNNING"): string {
  return `BATCH_STATE_${state}`;
}

/** Whether a job reached a terminal state. */
export function isDone(job: BatchJob): boolean {
  return job.endTime !== undefined;
}

/** The Operation Google answers to create, get and (per job) list. */
export function batchResource(job: BatchJob): Record<string, unknown> {
  const name = `batches/${job.id}`;
  const metadata: Record<string, unknown> = {
    "@type": BATCH_TYPE,
    model: `models/${job.model}`,
    displayName: job.displayName,
  };
  // Seen echoed for file input; whether inline requests come back is unknown.
  if (job.input.kind === "file") {
    metadata.inputConfig = { fileName: job.input.fileName };
  }
  Object.assign(metadata, {
    createTime: job.createTime,
    updateTime: job.updateTime,
  });
  if (job.endTime) metadata.endTime = job.endTime;
  metadata.batchStats = batchStats(job);
  metadata.state = job.state;
  metadata.name = name;
  const output = batchOutput(job);
  if (output) metadata.output = output;
  const body: Record<string, unknown> = { name, metadata };
  if (!isDone(job)) return body;
  body.done = true;
  if (job.error) body.error = job.error;
  // Google duplicates the output here (discuss.ai.google.dev thread 174261).
  else if (output) body.response = { "@type": OUTPUT_TYPE, ...output };
  return body;
}

function batchOutput(job: BatchJob): Record<string, unknown> | undefined {
  if (job.responsesFile) return { responsesFile: job.responsesFile };
  if (job.input.kind !== "inline" || !job.results?.length) return undefined;
  const inlinedResponses = job.results.map((result, i) => {
    const metadata = job.rows[i]?.metadata;
    return metadata === undefined ? result : { ...result, metadata };
  });
  return { inlinedResponses: { inlinedResponses } };
}

/** int64 counts as strings; proto3 JSON leaves out the zero ones. */
function batchStats(job: BatchJob): Record<string, string> {
  const total = job.rows.length;
  const results = job.results ?? [];
  const failed = results.filter((r) => "error" in r).length;
  const counts: [string, number][] = [["requestCount", total]];
  if (job.error) {
    counts.push(["failedRequestCount", total]);
  } else {
    counts.push(
      ["successfulRequestCount", results.length - failed],
      ["failedRequestCount", failed],
      ["pendingRequestCount", total - results.length],
    );
  }
  return Object.fromEntries(
    counts.filter(([, n]) => n > 0).map(([key, n]) => [key, String(n)]),
  );
}

/** A job as `fake.batchJobs()` shows it. */
export function recordedJob(job: BatchJob): FakeBatchJob {
  const recorded: FakeBatchJob = {
    name: `batches/${job.id}`,
    state: job.state,
    displayName: job.displayName,
    model: job.model,
    requestCount: job.rows.length,
    inputKind: job.input.kind,
    rows: job.rows.map(({ key, inputImages }) => ({ key, inputImages })),
    gets: job.gets,
    deleted: job.deleted,
  };
  if (job.input.kind === "file") recorded.inputFile = job.input.fileName;
  if (job.responsesFile) recorded.responsesFile = job.responsesFile;
  return recorded;
}
