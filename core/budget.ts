/**
 * Budget caps on the server side (issue #5): reading a new cap sent with a
 * run request, storing it, and refusing a capped run that cannot be enforced.
 * The generator enforces the cap itself (generator/budget.ts).
 */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { type Batch, batches } from "../db/schema.ts";
import { estimateImageUsd, formatUsd } from "./cost.ts";
import { LIMITS } from "./limits.ts";
import { findModel } from "./catalog.ts";

/** What is wrong with a cap, worded once for new batches and run requests. */
export const BUDGET_MESSAGES = {
  notANumber: "The budget cap must be a number of USD, like 2.50.",
  negative: "The budget cap cannot be negative.",
  tooHigh: `The budget cap can be at most ${
    LIMITS.budgetUsd.toLocaleString("en-US")
  } USD.`,
} as const;

/**
 * A cap sent with a run request: `undefined` leaves the batch's cap as it is,
 * `null` removes it, a number replaces it.
 */
export type BudgetChange =
  | { ok: true; value: number | null | undefined }
  | { ok: false; message: string };

/**
 * Reads a cap from a form field, query parameter or JSON value: absent →
 * unchanged; blank text or JSON `null` → no cap; else a number from 0 to
 * `LIMITS.budgetUsd`.
 */
export function parseBudgetChange(raw: unknown): BudgetChange {
  if (raw === undefined) return { ok: true, value: undefined };
  if (raw === null) return { ok: true, value: null };
  if (typeof raw === "string" && raw.trim() === "") {
    return { ok: true, value: null };
  }
  const value = typeof raw === "number"
    ? raw
    : typeof raw === "string"
    ? Number(raw.trim())
    : NaN;
  if (!Number.isFinite(value)) {
    return { ok: false, message: BUDGET_MESSAGES.notANumber };
  }
  if (value < 0) return { ok: false, message: BUDGET_MESSAGES.negative };
  if (value > LIMITS.budgetUsd) {
    return { ok: false, message: BUDGET_MESSAGES.tooHigh };
  }
  return { ok: true, value };
}

/** Stores a new cap (or none) on the batch; returns the updated record. */
export async function setBatchBudget(
  db: Db,
  batch: Batch,
  budgetUsd: number | null,
): Promise<Batch> {
  if (batch.budgetUsd === budgetUsd) return batch;
  const updatedAt = new Date();
  await db.update(batches).set({ budgetUsd, updatedAt }).where(
    eq(batches.id, batch.id),
  );
  return { ...batch, budgetUsd, updatedAt };
}

/** Estimated USD of one image of the batch, `null` when it has no price. */
export function batchImageUsd(batch: Batch, promptChars = 0): number | null {
  const model = findModel(batch.model);
  const size = model && model.imageSizes.length === 0
    ? ""
    : batch.settings.imageSize;
  return estimateImageUsd(batch.model, size, promptChars);
}

/**
 * Why a run of the batch must not start because of its cap, or `null`. A cap
 * on a model without a price cannot be enforced, so the run is refused rather
 * than run uncapped.
 */
export function budgetProblem(batch: Batch): string | null {
  if (batch.budgetUsd === null) return null;
  if (batchImageUsd(batch) !== null) return null;
  return `BatchGen has no price for ${batch.model}, so your budget cap of ${
    formatUsd(batch.budgetUsd)
  } cannot be enforced. Remove the cap (leave the budget field empty) to run this batch without one.`;
}
