/**
 * Runs (or resumes) one batch: picks the items to generate, starts the
 * generator with the user's key, applies each event to the database and
 * reports it to the caller's transport (SSE for the page, NDJSON for the API).
 * When the run ends — finished, cancelled, disconnected or killed — nothing
 * that holds the key remains (K6).
 */
import { join } from "node:path";
import {
  addToBatchQuery,
  itemsWithStatus,
  markItemStartedQuery,
  moveItems,
  recordFailureQuery,
  recordImageQueries,
  recordUsageQuery,
  settleBatch,
} from "../db/run_queries.ts";
import { batchedWrite } from "../db/batched_writes.ts";
import type { Batch, Item } from "../core/records.ts";
import { submitBatch } from "./batch_submit.ts";
import type { GeneratorEvent, Job } from "../core/protocol.ts";
import { costFromUsage } from "../core/cost.ts";
import { requestImageSize } from "../core/catalog.ts";
import { createScrubber } from "../core/scrub.ts";
import {
  afterRun,
  IN_RUN,
  isStopped,
  runnableStatuses,
} from "../core/status.ts";
import type { Logger } from "../lib/log.ts";
import type { ItemRow } from "../db/item_rows.ts";
import { referencePath } from "../lib/reference_store.ts";
import { referencesByIds } from "../db/reference_queries.ts";
import { keepImage, writeManifest } from "./batch_files.ts";
import { imageStoreFor } from "../lib/image_store.ts";
import type { RunDeps } from "./deps.ts";
import { createQuotaPacers, type QuotaPacers } from "./quota_pacer.ts";
import type { RunOptions, RunUpdate } from "./run_types.ts";
import { batchLockPath, locksDir } from "../lib/batch_lock.ts";
import { adoptSavedFiles } from "./recovery.ts";
import { type ReleaseStart, SpawnGate } from "./spawn_gate.ts";

export type { RunDeps, RunOptions, RunUpdate };

// One registry per server process unless the caller passes its own: every
// run of a workspace on this instance shares its limiter.
let processPacers: QuotaPacers | undefined;
// Likewise one start gate per server process: all its runs start through it.
let processGate: SpawnGate | undefined;

/** The part of an item record that comes from its row. */
type ItemRowPart = Omit<Item, keyof ItemRow>;

function rowPart(item: Item): ItemRowPart {
  const {
    prompt,
    model,
    aspectRatio,
    imageSize,
    name,
    row,
    template,
    choices,
    axis,
    references,
  } = item;
  return {
    prompt,
    model,
    aspectRatio,
    imageSize,
    name,
    row,
    template,
    choices,
    axis,
    references,
  };
}

/** Runs the batch to its end and returns the settled batch record. */
export async function runBatch(
  deps: RunDeps,
  options: RunOptions,
): Promise<Batch> {
  const { batch, signal } = options;
  // Batch mode: no generator; the jobs go to Google's Batch API.
  if (batch.mode === "batch" && !options.now) {
    return await submitBatch(deps, options);
  }
  // A few runs start at a time (setup, spawn, the child's start-up); the
  // slot is given back at the generator's first event, or when the run
  // ends without one.
  const release = await (deps.spawnGate ?? (processGate ??= new SpawnGate()))
    .enter(signal);
  try {
    return await runGenerator(deps, options, release);
  } finally {
    release();
  }
}

async function runGenerator(
  deps: RunDeps,
  options: RunOptions,
  release: ReleaseStart,
): Promise<Batch> {
  const { db, config } = deps;
  const { batch, signal } = options;
  const log = deps.log.withSecrets([options.apiKey]);
  // Images a generator orphaned by a crash saved after recovery looked (its
  // lock is free by now: claimRun checked) are this batch's: recorded, they
  // are not requested again.
  await adoptSavedFiles(db, config.imagesDir, batch.id);
  // Still `running` under our lease with the lock free: the run of a server
  // that crashed, which recovery left while its orphan saved. Its open items
  // were interrupted.
  if (batch.status === "running") {
    await moveItems(db, batch.id, IN_RUN, "interrupted");
  }
  const todo = await itemsWithStatus(
    db,
    batch.id,
    runnableStatuses(options.mode),
  );
  if (todo.length === 0) return await finish(deps, batch.id, null, options);
  // The reference images of the items, by id (each item names them by id).
  const references = new Map(
    (await referencesByIds(
      db,
      batch.workspaceId,
      [...new Set(todo.flatMap((item) => item.references))],
    )).map((ref) => [ref.id, ref]),
  );

  const job: Job = {
    batchId: batch.id,
    model: batch.model,
    aspectRatio: batch.settings.aspectRatio,
    imageSize: requestImageSize(batch.model, batch.settings.imageSize),
    concurrency: batch.settings.concurrency,
    outputDir: join(config.imagesDir, batch.id),
    lockPath: batchLockPath(config.dataDir, batch.id),
    timeoutMs: config.requestTimeoutMs,
    maxAttempts: config.maxAttempts,
    items: todo.map((item) => ({
      itemId: item.id,
      position: item.position,
      imageIndex: item.imageIndex,
      prompt: item.prompt,
      model: item.model,
      aspectRatio: item.aspectRatio,
      imageSize: requestImageSize(item.model, item.imageSize) ?? "",
      references: item.references.flatMap((id) => {
        const ref = references.get(id);
        return ref ? [ref.sha256] : [];
      }),
    })),
    references: [...new Set(references.values())].map((ref) => ({
      sha256: ref.sha256,
      mimeType: ref.mimeType,
      path: referencePath(config.referencesDir, ref.sha256, ref.mimeType),
    })),
    // The cap counts what earlier runs of this batch already spent (#5).
    ...(batch.budgetUsd === null ? {} : {
      budgetUsd: batch.budgetUsd,
      spentUsd: Math.max(0, batch.actualCostUsd),
    }),
  };
  await Deno.mkdir(job.outputDir, { recursive: true });
  await Deno.mkdir(locksDir(config.dataDir), { recursive: true });
  await moveItems(db, batch.id, runnableStatuses(options.mode), "pending");
  // The one full recount until the end (a retried item just left `failed`
  // for `pending`); each event then adjusts this record in O(1).
  let current = await settleBatch(db, batch.id, { running: true });
  // Built once per run: deriving the key's fragments per event was the
  // scrubber's main cost.
  const scrubber = createScrubber([options.apiKey]);
  // The run's items and their rows are known from the start: the item rows
  // each event writes come back without their row, and get it here.
  const rowOf = new Map(todo.map((item) => [item.id, rowPart(item)]));

  let stopMessage: string | null = null;
  const child = deps.spawn(job, {
    apiKey: options.apiKey,
    apiBaseUrl: config.geminiBaseUrl,
    baseEnv: config.childEnv,
    signal,
    pacer: (deps.pacers ?? (processPacers ??= createQuotaPacers())).forRun(
      batch.workspaceId,
      batch.model,
    ),
    onStderr: (line) =>
      log.warn("generator stderr", { batchId: batch.id, line }),
  });
  log.info("run started", {
    batchId: batch.id,
    items: todo.length,
    pid: child.pid,
  });
  try {
    for await (const raw of child.events) {
      release();
      // The generator scrubs already; scrubbing again here means no path
      // from its output to the DB, a page or the API skips the scrubber.
      const event = scrubber.scrubValue(raw);
      if (event.type === "batch-stopped") stopMessage = event.message;
      const update = await applyEvent(deps, current, event, rowOf);
      if (!update) continue;
      current = update.batch;
      await safeReport(options, update, log);
    }
  } finally {
    release();
    child.kill();
  }
  const code = await child.exited;
  // It is dead now and no other run of this batch can be going. Killed
  // mid-write (Cancel, a closed tab) it leaves a temp file, which goes;
  // killed between saving an image and reporting it, the image file, which
  // is recorded: Google billed it, so its item succeeded.
  await adoptSavedFiles(db, config.imagesDir, batch.id);

  const end = afterRun({
    abortReason: signal.aborted ? signal.reason : undefined,
    stopMessage,
    exitCode: code,
  });
  if (end.openItemsBecome) {
    await moveItems(db, batch.id, IN_RUN, end.openItemsBecome);
  }
  log.info("run ended", { batchId: batch.id, code, aborted: signal.aborted });
  return await finish(deps, batch.id, end.message, options);
}

async function finish(
  deps: RunDeps,
  batchId: string,
  message: string | null,
  options: RunOptions,
): Promise<Batch> {
  const settled = await settleBatch(deps.db, batchId, {
    statusMessage: message,
  });
  const items = await writeManifest(deps.db, deps.config.imagesDir, settled);
  const stoppedItems = items.filter(isStopped);
  await safeReport(
    options,
    { event: { type: "finished" }, batch: settled, stoppedItems },
    deps.log,
  );
  return settled;
}

async function safeReport(options: RunOptions, update: RunUpdate, log: Logger) {
  // A gone client must not stop the bookkeeping: the DB is the truth.
  try {
    await options.onUpdate(update);
  } catch (error) {
    log.debug("could not report a run update", { error: String(error) });
  }
}

/**
 * Writes one event's item row and, when the event changes the batch's counts
 * or cost, adds that to the batch: one transaction per event, shared with
 * the events other runs write in the same turn (`batchedWrite`), so one
 * commit for many events, not one per statement. Other events report `batch` (the
 * run's current record) as it is. Only the run's own items (`rowOf`) are
 * written: the generator names no other.
 */
async function applyEvent(
  deps: RunDeps,
  batch: Batch,
  event: GeneratorEvent,
  rowOf: ReadonlyMap<string, ItemRowPart>,
): Promise<RunUpdate | undefined> {
  const { db } = deps;
  const record = (row: ItemRow | undefined): Item | undefined => {
    const part = row && rowOf.get(row.id);
    return row && part && { ...row, ...part };
  };
  if ("itemId" in event && !rowOf.has(event.itemId)) return undefined;
  switch (event.type) {
    case "item-started": {
      const [rows] = await batchedWrite(db, [
        markItemStartedQuery(db, batch.id, event.itemId),
      ]);
      const item = record(rows[0]);
      return item && { event, item, batch };
    }
    case "image-saved": {
      const [[row], , [image], [added]] = await batchedWrite(db, [
        ...recordImageQueries(db, batch.id, event.itemId, event),
        addToBatchQuery(db, batch.id, { succeeded: 1 }),
      ]);
      // Into the image store once recorded (an S3 bucket: uploaded, the
      // local file removed). If that fails the file stays here, is served
      // from here, and the run's end or crash recovery uploads it.
      if (image) {
        await keepImage(imageStoreFor(deps.config), batch.id, image)
          .catch((error) =>
            deps.log.warn("image kept locally: the image store refused it", {
              batchId: batch.id,
              fileName: image.fileName,
              error: String(error),
            })
          );
      }
      const item = record(row);
      return item && image && added && { event, item, image, batch: added };
    }
    case "item-failed": {
      const blocked = event.kind === "blocked" ? 1 : 0;
      const [[row], [added]] = await batchedWrite(db, [
        recordFailureQuery(db, batch.id, event.itemId, {
          kind: event.kind,
          message: event.message,
        }),
        addToBatchQuery(db, batch.id, { failed: 1, blocked }),
      ]);
      const item = record(row);
      return item && added && { event, item, batch: added };
    }
    case "usage": {
      // One per attempt: a retried request is billed again, so costs add up.
      const costUsd = costFromUsage(
        rowOf.get(event.itemId)?.model ?? batch.model,
        event,
      );
      const [[row], [added]] = await batchedWrite(db, [
        recordUsageQuery(db, batch.id, event.itemId, event, costUsd),
        addToBatchQuery(db, batch.id, { costUsd: costUsd ?? 0 }),
      ]);
      const item = record(row);
      return item && added && { event, item, batch: added };
    }
    case "token-request":
      return undefined;
    case "rate-limited":
    case "batch-stopped":
    case "started":
    case "done":
      return { event, batch };
  }
}
