/** JSON shapes of the public API (design.md §7). Key-free by construction. */
import type { Batch, GoogleJob, Image, Item } from "../../core/records.ts";
import { costLabel } from "../../core/cost.ts";
import { usageOf } from "../../core/records.ts";
import {
  type BatchPlan,
  estimatedUsd,
  type PlannedRow,
} from "../../core/batch_plan.ts";
import { BATCH_DISCOUNT, estimateRows } from "../../core/cost.ts";

/** Rows a dry run and the form's preview show. */
export const PREVIEW_ROWS = 50;

/** A planned row as a dry run shows it. */
export function plannedRowJson(row: PlannedRow) {
  return {
    row: row.row,
    prompt: row.prompt,
    model: row.model,
    aspectRatio: row.aspectRatio,
    imageSize: row.imageSize,
    imagesPerPrompt: row.images,
    name: row.name,
    references: row.references,
    template: row.template,
    choices: row.choices,
    axis: row.axis,
    estimatedCostUsd: estimateRows([{
      model: row.model,
      imageSize: row.imageSize,
      promptChars: row.prompt.length,
      images: row.images,
      inputImages: row.references.length,
    }]).totalUsd,
  };
}

/** What `dryRun: true` answers: the batch it would make, nothing saved. */
export function previewJson(plan: BatchPlan) {
  return {
    title: plan.title,
    itemCount: plan.estimate.images,
    rowCount: plan.rows.length,
    mode: plan.mode,
    estimatedCostUsd: estimatedUsd(plan),
    estimatedStandardCostUsd: plan.estimate.totalUsd,
    estimatedByModel: plan.estimate.byModel.map((m) => ({
      model: m.model,
      images: m.images,
      estimatedCostUsd: m.totalUsd,
    })),
    priceListDate: plan.estimate.priceListDate,
    costLabel: costLabel(plan.estimate.priceListDate),
    rows: plan.rows.slice(0, PREVIEW_ROWS).map(plannedRowJson),
  };
}

/** A batch record as the API shows it. */
export function batchJson(batch: Batch) {
  return {
    id: batch.id,
    title: batch.title,
    status: batch.status,
    statusMessage: batch.statusMessage,
    model: batch.model,
    aspectRatio: batch.settings.aspectRatio,
    imageSize: batch.settings.imageSize,
    imagesPerPrompt: batch.settings.imagesPerPrompt,
    concurrency: batch.settings.concurrency,
    ...(batch.settings.matrix ? { matrix: batch.settings.matrix } : {}),
    ...(batch.settings.expandTemplates ? { expandTemplates: true } : {}),
    ...(batch.settings.sample ? { sample: batch.settings.sample } : {}),
    ...(batch.settings.eachReference ? { eachReference: true } : {}),
    createdAt: batch.createdAt.toISOString(),
    updatedAt: batch.updatedAt.toISOString(),
    counts: {
      items: batch.itemCount,
      succeeded: batch.succeededCount,
      failed: batch.failedCount,
      blocked: batch.blockedCount,
    },
    mode: batch.mode,
    estimatedCostUsd: batch.estimatedCostUsd,
    estimatedStandardCostUsd: batch.mode === "batch" &&
        batch.estimatedCostUsd !== null
      ? batch.estimatedCostUsd / BATCH_DISCOUNT
      : batch.estimatedCostUsd,
    actualCostUsd: batch.actualCostUsd,
    budgetUsd: batch.budgetUsd,
    priceListDate: batch.priceListDate,
    costLabel: costLabel(batch.priceListDate),
    url: `/batches/${batch.id}`,
  };
}

/** An item with its image URL, as the API shows it. */
export function itemJson(
  batchId: string,
  item: Item,
  image: Image | undefined,
) {
  return {
    id: item.id,
    position: item.position,
    imageIndex: item.imageIndex,
    prompt: item.prompt,
    model: item.model,
    aspectRatio: item.aspectRatio,
    imageSize: item.imageSize,
    references: item.references,
    name: item.name,
    row: item.row,
    template: item.template,
    choices: item.choices,
    axis: item.axis,
    status: item.status,
    attempts: item.attempts,
    errorKind: item.errorKind,
    errorMessage: item.errorMessage,
    usage: usageOf(item),
    costUsd: item.costUsd,
    image: image
      ? {
        url: `/images/${batchId}/${image.fileName}`,
        file: image.fileName,
        mimeType: image.mimeType,
        bytes: image.bytes,
        sha256: image.sha256,
        width: image.width,
        height: image.height,
      }
      : null,
  };
}

/** A job at Google (Batch mode), as the API shows it. */
export function jobJson(job: GoogleJob) {
  return {
    name: job.name,
    model: job.model,
    state: job.state,
    requestCount: job.requestCount,
    succeeded: job.succeededCount,
    failed: job.failedCount,
    collected: job.collected,
    error: job.error,
    submittedAt: job.createdAt.toISOString(),
  };
}
