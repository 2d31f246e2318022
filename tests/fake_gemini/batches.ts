/**
 * The Batch API (gemini-api.md §2.6): create from inline requests or an
 * uploaded JSONL file, get (which moves a job PENDING → RUNNING → done as
 * `FakeGeminiOptions.batch` scripts), cancel, delete and list.
 *
 * Job-level markers, found in the displayName or anywhere in any row's
 * request (so with chunked jobs only the chunk holding that row is hit):
 * `[batch:fail]` ends FAILED, `[batch:expire]` EXPIRED, `[batch:cancel]`
 * CANCELLED (as if cancelled elsewhere), overriding `batch.finalState`;
 * `[batch:too-large]` makes every GET of the done job answer 503 (inline
 * jobs only), as Google did for image batches too big to assemble (§2.6).
 * Row markers (`[status:N]`, `[block:…]`, …) work per row (batch_rows.ts).
 */
import { modelNotFoundError } from "./errors.ts";
import { rpcError } from "./files_upload.ts";
import { googleError, isRecord, type Outcome } from "./http.ts";
import {
  type BatchJob,
  batchResource,
  type FakeBatchJob,
  type FinalState,
  recordedJob,
  wireState,
} from "./batch_job.ts";
import { readBatchInput } from "./batch_input.ts";
import { finishJob } from "./batch_output.ts";
import type { FakeState } from "./state.ts";

export type { BatchJob } from "./batch_job.ts";

const PAGE = { default: 10, max: 100 };
const JOB_MARKERS: [string, FinalState][] = [
  ["[batch:fail]", "FAILED"],
  ["[batch:expire]", "EXPIRED"],
  ["[batch:cancel]", "CANCELLED"],
];
const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** What the router read of a create request. */
export interface CreateRequest {
  version: string;
  model: string;
  /** The fake's origin, for the results file's `uri`. */
  origin: string;
  body: unknown;
}

/** `POST /{v}/models/{m}:batchGenerateContent`. */
export function createBatch(state: FakeState, request: CreateRequest): Outcome {
  const { version, model } = request;
  if (!state.models.some((m) => m.id === model)) {
    return modelNotFoundError(model, version, "batchGenerateContent");
  }
  const body = isRecord(request.body) ? request.body : {};
  const batch = isRecord(body.batch) ? body.batch : {};
  const displayName = batch.displayName;
  if (typeof displayName !== "string" || displayName === "") {
    // The REST reference marks displayName Required.
    return googleError(
      400,
      "* BatchGenerateContentRequest.batch.display_name: display_name is required\n",
    );
  }
  const input = readBatchInput(state, batch);
  if (!input.ok) return input.outcome;
  const now = new Date().toISOString();
  const markerText = [
    displayName,
    ...input.rows.map((row) => JSON.stringify(row.request ?? null)),
  ].join("\n");
  const job: BatchJob = {
    id: randomId(),
    version,
    origin: request.origin,
    model,
    displayName,
    input: input.input,
    rows: input.rows,
    planned: JOB_MARKERS.find(([marker]) => markerText.includes(marker))
      ?.[1] ?? state.options.batch?.finalState ?? "SUCCEEDED",
    tooLarge: markerText.includes("[batch:too-large]"),
    state: wireState("PENDING"),
    createTime: now,
    updateTime: now,
    gets: 0,
    deleted: false,
    downloadFaulted: false,
  };
  state.batches.set(job.id, job);
  return { status: 200, body: batchResource(job) };
}

/** `GET /{v}/batches/{id}`: each GET moves the job on (see getsPerState). */
export async function getBatch(state: FakeState, id: string): Promise<Outcome> {
  const job = liveJob(state, id);
  if (!job) return notFound();
  job.gets++;
  const perState = state.options.batch?.getsPerState ?? 0;
  if (!job.finishing && job.gets > 2 * perState) {
    job.finishing = finishJob(state, job, job.planned);
  } else if (!job.finishing) {
    const next = wireState(job.gets <= perState ? "PENDING" : "RUNNING");
    if (next !== job.state) {
      job.state = next;
      job.updateTime = new Date().toISOString();
    }
  }
  await job.finishing;
  if (job.tooLarge && job.input.kind === "inline" && job.results?.length) {
    return googleError(503, "The service is currently unavailable.");
  }
  return { status: 200, body: batchResource(job) };
}

/** `POST /{v}/batches/{id}:cancel`: answers `{}`; the job ends CANCELLED. */
export async function cancelBatch(
  state: FakeState,
  id: string,
): Promise<Outcome> {
  const job = liveJob(state, id);
  if (!job) return notFound();
  if (job.finishing) {
    return rpcError(
      400,
      "FAILED_PRECONDITION",
      `Batch batches/${id} is already in a terminal state and cannot be cancelled.`,
    );
  }
  job.finishing = finishJob(state, job, "CANCELLED");
  await job.finishing;
  return { status: 200, body: {} };
}

/** `DELETE /{v}/batches/{id}`: answers `{}`; the job is gone (its results file is not). */
export function deleteBatch(state: FakeState, id: string): Outcome {
  const job = liveJob(state, id);
  if (!job) return notFound();
  job.deleted = true;
  return { status: 200, body: {} };
}

/**
 * `GET /{v}/batches`: `{ operations: [...], nextPageToken? }`, newest
 * first. The field is `operations` (ListOperationsResponse): what
 * `@google/genai` 3.3.0 reads and a captured live answer shows
 * (flachesis/gemini-rust PR #13). Listing does not move jobs on.
 */
export function listBatches(state: FakeState, url: URL): Outcome {
  const size = Number(url.searchParams.get("pageSize") ?? PAGE.default);
  if (!Number.isInteger(size) || size < 0) {
    return googleError(400, "Invalid value at 'page_size' (TYPE_INT32)");
  }
  const token = url.searchParams.get("pageToken");
  const offset = token ? Number(/^batches-offset-(\d+)$/.exec(token)?.[1]) : 0;
  const jobs = [...state.batches.values()].filter((j) => !j.deleted).reverse();
  if (!Number.isInteger(offset) || offset > jobs.length) {
    return googleError(400, "Invalid page token.");
  }
  const next = offset + Math.min(size || PAGE.default, PAGE.max);
  // Google leaves out empty lists and the last page's token.
  const body: Record<string, unknown> = {};
  const page = jobs.slice(offset, next);
  if (page.length > 0) body.operations = page.map(batchResource);
  if (next < jobs.length) body.nextPageToken = `batches-offset-${next}`;
  return { status: 200, body };
}

/** Every job created, deleted ones included, in creation order. */
export function recordedJobs(state: FakeState): FakeBatchJob[] {
  return [...state.batches.values()].map(recordedJob);
}

function liveJob(state: FakeState, id: string): BatchJob | undefined {
  const job = state.batches.get(id);
  return job && !job.deleted ? job : undefined;
}

function notFound(): Outcome {
  return googleError(404, "Requested entity was not found.");
}

/** Google's batch ids: 36 lowercase letters and digits. */
function randomId(): string {
  const raw = crypto.getRandomValues(new Uint8Array(36));
  return Array.from(raw, (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join("");
}
