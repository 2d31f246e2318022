/** A batch's life outside a run: created from a plan, deleted with its files. */
import type { Db } from "../db/client.ts";
import { createBatch, deleteBatch } from "../db/batch_queries.ts";
import type { Batch } from "../core/records.ts";
import { type BatchPlan, itemSlots } from "../core/batch_input.ts";
import { removeBatchFiles } from "./batch_files.ts";

/** Stores a planned batch for the workspace, key-free, with its estimate. */
export async function storeNewBatch(
  db: Db,
  workspaceId: string,
  plan: BatchPlan,
): Promise<Batch> {
  return await createBatch(db, {
    workspaceId,
    title: plan.title,
    model: plan.model,
    settings: plan.settings,
    slots: itemSlots(plan),
    estimatedCostUsd: plan.estimate.totalUsd,
    priceListDate: plan.estimate.priceListDate,
    budgetUsd: plan.budgetUsd,
  });
}

/** Deletes a batch's rows and its folder of images. */
export async function removeBatch(
  db: Db,
  imagesDir: string,
  batch: Batch,
): Promise<void> {
  await deleteBatch(db, batch.id);
  await removeBatchFiles(imagesDir, batch.id);
}
