/**
 * Batch mode, step two: with the user's key, during the request that asked
 * for it, check each job at Google; for a job that has ended, save every
 * result exactly as a standard run does (atomic file, then one atomic DB
 * write per item), price it at the Batch API's rate, map per-row errors and
 * blocks to readable reasons, and give what Google never answered a reason
 * too. A job is marked collected only after all of that, so a sync cut short
 * (a crash between download and save, a dropped download) is simply done
 * again next time; an item already collected is never written twice. When
 * every job is collected, the files uploaded for them are deleted.
 */
import { join } from "node:path";
import {
  batchJobs,
  recordJobResult,
  updateJob,
} from "../db/google_job_queries.ts";
import {
  batchItemResult,
  ENDED_JOB_STATES,
  type JobResult,
  unansweredResult,
} from "../core/batch_results.ts";
import { itemsWithStatus, settleBatch } from "../db/run_queries.ts";
import type { Batch, GoogleJob, Item } from "../core/records.ts";
import { deleteFile } from "../gemini/files.ts";
import {
  decodeImage,
  type ParsedOutcome as Outcome,
} from "../gemini/generate.ts";
import {
  type BatchResult,
  cancelBatchJob,
  getBatchJob,
} from "../gemini/batches.ts";
import { readJobResults } from "../gemini/batch_flow.ts";
import { saveImage } from "../lib/save_image.ts";
import { imageStoreFor } from "../lib/image_store.ts";
import { keepImage } from "./batch_files.ts";
import { scrubError } from "../core/scrub.ts";
import { refuse, type Result } from "../core/result.ts";
import type { RunDeps } from "./deps.ts";

const ENDED = ENDED_JOB_STATES;

/** What a sync found: the batch as it is now, and its jobs. */
export interface SyncResult {
  batch: Batch;
  jobs: GoogleJob[];
  /** Why a job could not be checked or collected this time (scrubbed). */
  problems: string[];
}

/** Checks every job of the batch and collects those that ended. */
export async function syncBatch(
  deps: Pick<RunDeps, "db" | "config">,
  batch: Batch,
  apiKey: string,
  signal: AbortSignal,
): Promise<SyncResult> {
  const { db, config } = deps;
  const base = { apiKey, baseUrl: config.geminiBaseUrl, signal };
  const problems: string[] = [];
  const open = new Map(
    (await itemsWithStatus(db, batch.id, ["submitted"])).map((item) => [
      item.id,
      item,
    ]),
  );
  for (const job of await batchJobs(db, batch.id)) {
    if (job.collected || signal.aborted) continue;
    const checked = await getBatchJob({ ...base, name: job.name });
    if (!checked.ok) {
      problems.push(`${job.name}: ${checked.failure.message}`);
      continue;
    }
    const info = checked.job;
    await updateJob(db, job.id, {
      state: info.state,
      succeededCount: info.succeeded,
      failedCount: info.failed,
      error: info.error ?? null,
    });
    if (!ENDED.includes(info.state)) continue;
    const save = (result: BatchResult) =>
      collect(deps, batch, job, open, result, apiKey);
    const read = await readJobResults(base, checked, save);
    if (!read.complete) {
      problems.push(
        `${job.name}: the results download stopped (${read.failure.message}); syncing again continues it.`,
      );
      continue;
    }
    // What Google never answered gets a reason; the job is then done with.
    for (const id of job.itemIds) {
      if (!open.has(id)) continue;
      await recordJobResult(
        db,
        batch.id,
        id,
        unansweredResult(info.state, info.error),
      );
      open.delete(id);
    }
    await updateJob(db, job.id, { collected: true });
  }
  const jobs = await batchJobs(db, batch.id);
  if (jobs.length > 0 && jobs.every((j) => j.collected)) {
    const files = [...new Set(jobs.flatMap((j) => j.uploadedFiles))];
    await Promise.allSettled(
      files.map((name) =>
        deleteFile({
          apiKey,
          baseUrl: config.geminiBaseUrl,
          name,
          signal: AbortSignal.timeout(10_000),
        })
      ),
    );
    for (const job of jobs.filter((j) => j.uploadedFiles.length > 0)) {
      await updateJob(db, job.id, { uploadedFiles: [] });
    }
  }
  const settled = await settleBatch(db, batch.id, {
    statusMessage: statusMessage(jobs, problems),
  });
  return { batch: settled, jobs: await batchJobs(db, batch.id), problems };
}

/** Cancels the batch's jobs that have not ended; a sync then collects them. */
export async function cancelJobs(
  deps: Pick<RunDeps, "db" | "config">,
  batch: Batch,
  apiKey: string,
  signal: AbortSignal,
): Promise<string[]> {
  const problems: string[] = [];
  for (const job of await batchJobs(deps.db, batch.id)) {
    if (job.collected || ENDED.includes(job.state)) continue;
    const done = await cancelBatchJob({
      apiKey,
      baseUrl: deps.config.geminiBaseUrl,
      name: job.name,
      signal,
    });
    if (!done.ok) problems.push(`${job.name}: ${done.failure.message}`);
  }
  return problems;
}

/** Saves one result for an item of the job that is still open. */
async function collect(
  { db, config }: Pick<RunDeps, "db" | "config">,
  batch: Batch,
  job: GoogleJob,
  open: Map<string, Item>,
  { key, outcome }: BatchResult,
  apiKey: string,
): Promise<void> {
  const item = open.get(key);
  if (!item || !job.itemIds.includes(key)) return;
  const result = await resultOf(
    outcome,
    item,
    join(config.imagesDir, batch.id),
    apiKey,
  );
  if (result.kind === "image") {
    // Into the image store (an S3 bucket: uploaded once, the local file
    // removed). A second sync of the same result stores the same bytes, a
    // no-op. If the store fails the file stays here, is served from here,
    // and crash recovery at the next start (or a later run's end) uploads it.
    await keepImage(imageStoreFor(config), batch.id, result.saved).catch(
      () => {},
    );
  }
  await recordJobResult(db, batch.id, item.id, result);
  open.delete(key);
}

/** One answer as a record: the image saved into the batch's folder, or why not. */
function resultOf(
  outcome: Outcome,
  item: Item,
  dir: string,
  apiKey: string,
): Promise<JobResult> {
  return batchItemResult(outcome, item.model, async () => {
    if (!outcome.ok) throw new TypeError("no image");
    await Deno.mkdir(dir, { recursive: true });
    return await saveImage(dir, {
      itemId: item.id,
      position: item.position,
      imageIndex: item.imageIndex,
      prompt: item.prompt,
    }, { bytes: decodeImage(outcome.image), mimeType: outcome.image.mimeType });
  }, (error) => scrubError(error, [apiKey]));
}

/** What the batch says about its jobs after a sync. */
function statusMessage(jobs: readonly GoogleJob[], problems: string[]) {
  const waiting = jobs.filter((j) => !j.collected);
  if (problems.length > 0) return problems[0]!;
  if (waiting.length === 0) return null;
  const since = waiting[0]!.createdAt.toISOString().slice(11, 16);
  return `At Google since ${since} UTC (${waiting.length} job${
    waiting.length === 1 ? "" : "s"
  } ${
    waiting.every((j) => j.state === "pending") ? "queued" : "in progress"
  }).`;
}

/**
 * A sync the user (page or script) asked for, one per batch at a time: it
 * holds the batch like a run, so a run, a cancel or another sync cannot
 * collect the same results at once.
 */
export async function syncOwned(
  deps: Pick<RunDeps, "db" | "config"> & {
    activeRuns: {
      start(batchId: string, workspaceId: string): AbortController | undefined;
      finish(batchId: string, controller: AbortController): void;
    };
  },
  batch: Batch,
  apiKey: string,
  { signal, cancel = false }: { signal: AbortSignal; cancel?: boolean },
): Promise<Result<SyncResult>> {
  if ((await batchJobs(deps.db, batch.id)).length === 0) {
    return refuse(
      "bad_request",
      "This batch has no jobs at Google: it runs in the standard mode, or was never submitted.",
    );
  }
  const controller = deps.activeRuns.start(batch.id, batch.workspaceId);
  if (!controller) {
    return refuse(
      "already_running",
      "This batch is being checked or run right now; try again in a moment.",
    );
  }
  try {
    const both = AbortSignal.any([signal, controller.signal]);
    const problems = cancel ? await cancelJobs(deps, batch, apiKey, both) : [];
    const result = await syncBatch(deps, batch, apiKey, both);
    return {
      ok: true,
      value: { ...result, problems: [...problems, ...result.problems] },
    };
  } finally {
    deps.activeRuns.finish(batch.id, controller);
  }
}
