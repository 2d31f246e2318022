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
import { LIMITS } from "../core/limits.ts";
import { requestImageSize } from "../core/catalog.ts";
import { atModePrice, estimateImageUsd, formatUsd } from "../core/cost.ts";
import { runnableStatuses } from "../core/status.ts";
import { deleteFile, uploadFile } from "../gemini/files.ts";
import { fileReference, type ReferencePart } from "../gemini/parts.ts";
import {
  batchInputJsonl,
  type BatchRequestRow,
  createBatchJob,
  imageRequestBody,
} from "../gemini/batches.ts";
import { readReferenceFile } from "./references.ts";
import type { RunDeps } from "./deps.ts";
import type { RunOptions, RunUpdate } from "./run_batch.ts";

/** One job to create: a model and the items it holds. */
interface Chunk {
  model: string;
  items: Item[];
  rows: BatchRequestRow[];
  bytes: number;
}

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
    let input: { rows: BatchRequestRow[] } | { fileName: string } = {
      rows: chunk.rows,
    };
    const own: string[] = [];
    if (chunk.rows.length > LIMITS.batchInlineRows) {
      const file = await uploadFile({
        ...base,
        bytes: batchInputJsonl(chunk.rows),
        mimeType: "application/jsonl",
        displayName,
      });
      if (!file.ok) {
        return await finish(
          `Could not upload job ${n + 1}: ${file.failure.message}`,
        );
      }
      own.push(file.file.name);
      input = { fileName: file.file.name };
    }
    const created = await createBatchJob({
      ...base,
      model: chunk.model,
      displayName,
      input,
    });
    if (!created.ok) {
      await removeAll(own, base);
      return await finish(
        `Google refused job ${
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
      uploadedFiles: [...own, ...uploaded],
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
      event: { type: "submitted", jobs },
      batch: settled,
    });
    await report(options, { event: { type: "finished" }, batch: settled });
    return settled;
  }
}

/** Requests grouped by model, cut at the row and byte caps. */
function chunksOf(
  items: readonly Item[],
  parts: ReadonlyMap<string, ReferencePart>,
): Chunk[] {
  const chunks: Chunk[] = [];
  const open = new Map<string, Chunk>();
  const encoder = new TextEncoder();
  for (const item of items) {
    const row: BatchRequestRow = {
      key: item.id,
      request: imageRequestBody({
        prompt: item.prompt,
        aspectRatio: item.aspectRatio,
        imageSize: requestImageSize(item.model, item.imageSize),
        references: item.references.flatMap((id) => parts.get(id) ?? []),
      }),
    };
    const bytes = encoder.encode(JSON.stringify(row)).length + 1;
    let chunk = open.get(item.model);
    if (
      !chunk || chunk.rows.length >= LIMITS.batchJobRows ||
      chunk.bytes + bytes > LIMITS.batchJobBytes
    ) {
      chunk = { model: item.model, items: [], rows: [], bytes: 0 };
      open.set(item.model, chunk);
      chunks.push(chunk);
    }
    chunk.items.push(item);
    chunk.rows.push(row);
    chunk.bytes += bytes;
  }
  return chunks;
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
