/** JSON shapes of the public API (design.md §7). Key-free by construction. */
import type { Batch, Image, Item } from "../../core/records.ts";
import { costLabel } from "../../core/cost.ts";
import { usageOf } from "../../core/records.ts";

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
    createdAt: batch.createdAt.toISOString(),
    updatedAt: batch.updatedAt.toISOString(),
    counts: {
      items: batch.itemCount,
      succeeded: batch.succeededCount,
      failed: batch.failedCount,
      blocked: batch.blockedCount,
    },
    estimatedCostUsd: batch.estimatedCostUsd,
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
