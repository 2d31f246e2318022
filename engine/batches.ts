/** A batch's life outside a run: created from a plan within quota, deleted with its files. */
import type { Db } from "../db/client.ts";
import {
  createBatch,
  deleteBatch,
  workspaceUsage,
} from "../db/batch_queries.ts";
import type { Batch, ReferenceImage } from "../core/records.ts";
import { type BatchPlan, estimatedUsd } from "../core/batch_plan.ts";
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
  newReferences: readonly ReferenceImage[] = [],
): Promise<Result<Batch>> {
  if (quota) {
    const encoder = new TextEncoder();
    const promptBytes = plan.rows.reduce(
      (sum, row) => sum + encoder.encode(row.prompt).length,
      0,
    );
    const fits = newBatchFits(quota, await workspaceUsage(db, workspaceId), {
      items: plan.estimate.images,
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
      rows: plan.rows,
      newReferences,
      estimatedCostUsd: estimatedUsd(plan),
      mode: plan.mode,
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
