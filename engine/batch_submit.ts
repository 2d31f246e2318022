/**
 * Batch mode, step one: with the user's key, during the request that asked
 * for it, build each open item's request, upload the reference images once
 * (Files API), split the requests into jobs Google can answer safely (by
 * model, a row cap and a byte cap; small jobs inline, larger ones as an
 * uploaded JSONL file, whose results come back as a file), create the jobs
 * and store their names. Nothing else is kept: the key leaves with the
 * request (K6), and a later sync with the key collects the results.
 */
import { itemsWithStatus, moveItems, settleBatch } from "../db/run_queries.ts";
import { recordSubmittedJob } from "../db/google_job_queries.ts";
import { referencesByIds } from "../db/reference_queries.ts";
import type { Batch, GoogleJob, Item } from "../core/records.ts";
import { atModePrice, estimateImageUsd, formatUsd } from "../core/cost.ts";
import { runnableStatuses } from "../core/status.ts";
import { deleteFile, uploadFile } from "../gemini/files.ts";
import { fileReference, type ReferencePart } from "../gemini/parts.ts";
import { createChunkJob } from "../gemini/batch_flow.ts";
import { type Chunk, itemChunks } from "../gemini/batch_chunks.ts";
import { readReferenceFile } from "./references.ts";
import type { RunDeps } from "./deps.ts";
import type { RunOptions, RunUpdate } from "./run_types.ts";

/** Submits the batch's open items as jobs at Google; returns the batch. */
export async function submitBatch(
  deps: RunDeps,
  options: RunOptions,
): Promise<Batch> {
  const { db, config } = deps;
  const { batch, apiKey, signal } = options;
  const base = { apiKey, baseUrl: config.geminiBaseUrl, signal };
  const todo = await itemsWithStatus(
    db,
    batch.id,
    runnableStatuses(options.mode),
  );
  const stop = async (message: string) => {
    const settled = await settleBatch(db, batch.id, { statusMessage: message });
    await report(options, { event: { type: "finished" }, batch: settled });
    return settled;
  };
  if (todo.length === 0) return await stop("Nothing left to submit.");
  const over = overBudget(batch, todo);
  if (over) return await stop(over);

  // Each reference once, uploaded for this submission's jobs.
  const uploaded: string[] = [];
  const parts = new Map<string, ReferencePart>();
  const refIds = [...new Set(todo.flatMap((item) => item.references))];
  for (const ref of await referencesByIds(db, batch.workspaceId, refIds)) {
    const bytes = await readReferenceFile(config.referencesDir, ref);
    if (!bytes) {
      return await stop(
        `The reference image ${ref.name} is missing from the data folder; upload it again.`,
      );
    }
    const sent = await uploadFile({
      ...base,
      bytes,
      mimeType: ref.mimeType,
      displayName: `batchgen-ref-${ref.sha256.slice(0, 16)}`,
    });
    if (!sent.ok) {
      await removeAll(uploaded, base);
      return await stop(
        `Could not upload a reference image to Google: ${sent.failure.message}`,
      );
    }
    uploaded.push(sent.file.name);
    parts.set(ref.id, fileReference(sent.file));
  }

  const jobs: GoogleJob[] = [];
  const chunks = chunksOf(todo, parts);
  // What is not submitted stays open (Resume submits it), never `running`.
  await moveItems(db, batch.id, runnableStatuses(options.mode), "pending");
  for (const [n, chunk] of chunks.entries()) {
    if (signal.aborted) break;
    const displayName = `batchgen-${batch.id}-${n + 1}`;
    const created = await createChunkJob(base, chunk, displayName);
    if (!created.ok) {
      return await finish(
        created.stage === "upload"
          ? `Could not upload job ${n + 1}: ${created.failure.message}`
          : `Google refused job ${
            n + 1
          } of ${chunks.length}: ${created.failure.message}`,
      );
    }
    const job = await recordSubmittedJob(db, {
      batchId: batch.id,
      name: created.job.name,
      model: chunk.model,
      state: created.job.state,
      requestCount: chunk.rows.length,
      succeededCount: 0,
      failedCount: 0,
      itemIds: chunk.items.map((item) => item.id),
      // References serve every job: each job lists them, and they go when
      // the last job is collected.
      uploadedFiles: [...created.uploaded, ...uploaded],
    });
    jobs.push(job);
  }
  return await finish(null);

  async function finish(problem: string | null) {
    if (jobs.length === 0) await removeAll(uploaded, base);
    const settled = await settleBatch(db, batch.id, {
      statusMessage: problem ??
        `Submitted to Google's Batch API in ${jobs.length} job${
          jobs.length === 1 ? "" : "s"
        }: results within 24 hours, usually sooner. You may close this tab; paste your key here later to collect them.`,
    });
    await report(options, {
      event: { type: "submitted", jobs, ...(problem ? { problem } : {}) },
      batch: settled,
    });
    await report(options, { event: { type: "finished" }, batch: settled });
    return settled;
  }
}

/** Each open item's request, split into jobs (gemini/batch_chunks.ts). */
function chunksOf(
  items: readonly Item[],
  parts: ReadonlyMap<string, ReferencePart>,
): (Chunk & { items: Item[] })[] {
  const byId = new Map(items.map((item) => [item.id, item]));
  return itemChunks(items, parts).map((chunk) => ({
    ...chunk,
    items: chunk.rows.map((row) => byId.get(row.key)!),
  }));
}

/**
 * Batch mode sends everything at once, so a cap can only be honoured up
 * front: the estimate at the batch price must fit what is left of it.
 */
function overBudget(batch: Batch, items: readonly Item[]): string | undefined {
  if (batch.budgetUsd === null) return undefined;
  let total = 0;
  for (const item of items) {
    const usd = estimateImageUsd(
      item.model,
      item.imageSize,
      item.prompt.length,
      item.references.length,
    );
    total += atModePrice(usd, "batch") ?? Infinity;
  }
  const left = batch.budgetUsd - Math.max(0, batch.actualCostUsd);
  return total > left
    ? `Not submitted: Batch mode sends every image at once, and their estimate (${
      formatUsd(total)
    }) is above what your budget cap leaves (${
      formatUsd(left)
    }). Raise the cap and submit again.`
    : undefined;
}

async function removeAll(
  names: readonly string[],
  base: { apiKey: string; baseUrl: string },
): Promise<void> {
  await Promise.allSettled(
    names.map((name) =>
      deleteFile({ ...base, name, signal: AbortSignal.timeout(10_000) })
    ),
  );
}

async function report(options: RunOptions, update: RunUpdate) {
  try {
    await options.onUpdate(update);
  } catch {
    // The page or script went away; the jobs are stored all the same.
  }
}
