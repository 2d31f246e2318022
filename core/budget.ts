/**
 * Budget caps (issue #5): reading a cap sent with a new batch or a run
 * request, and refusing a capped run that cannot be enforced. The generator
 * enforces the cap itself (generator/budget.ts).
 */
import type { Batch } from "./records.ts";
import { estimateImageUsd, formatUsd } from "./cost.ts";
import { LIMITS } from "./limits.ts";
import { refuse, type Result } from "./result.ts";

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
export type BudgetChange = Result<number | null | undefined>;

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
    return refuse("invalid_budget", BUDGET_MESSAGES.notANumber);
  }
  if (value < 0) return refuse("invalid_budget", BUDGET_MESSAGES.negative);
  if (value > LIMITS.budgetUsd) {
    return refuse("invalid_budget", BUDGET_MESSAGES.tooHigh);
  }
  return { ok: true, value };
}

/** Estimated USD of one image of the batch, `null` when it has no price. */
export function batchImageUsd(batch: Batch, promptChars = 0): number | null {
  return estimateImageUsd(batch.model, batch.settings.imageSize, promptChars);
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
