/** A batch's life outside a run: created from a plan within quota, deleted with its files. */
import type { Db } from "../db/client.ts";
import {
  createBatch,
  deleteBatch,
  workspaceUsage,
} from "../db/batch_queries.ts";
import type { Batch } from "../core/records.ts";
import { type BatchPlan, itemSlots } from "../core/batch_input.ts";
import { newBatchFits, type Quota } from "../core/quota.ts";
import type { Result } from "../core/result.ts";
import { removeBatchFiles } from "./batch_files.ts";

/**
 * Stores a planned batch for the workspace, key-free, with its estimate, if
 * it fits the workspace's quota.
 */
export async function storeNewBatch(
  db: Db,
  workspaceId: string,
  plan: BatchPlan,
  quota?: Quota,
): Promise<Result<Batch>> {
  const slots = itemSlots(plan);
  if (quota) {
    const promptBytes = plan.prompts.reduce(
      (sum, prompt) => sum + new TextEncoder().encode(prompt).length,
      0,
    );
    const fits = newBatchFits(quota, await workspaceUsage(db, workspaceId), {
      items: slots.length,
      promptBytes,
    });
    if (!fits.ok) return fits;
  }
  return {
    ok: true,
    value: await createBatch(db, {
      workspaceId,
      title: plan.title,
      model: plan.model,
      settings: plan.settings,
      slots,
      estimatedCostUsd: plan.estimate.totalUsd,
      priceListDate: plan.estimate.priceListDate,
      budgetUsd: plan.budgetUsd,
    }),
  };
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
