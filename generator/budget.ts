/**
 * The budget cap of a run (issue #5): before each request starts, the pool
 * asks whether the batch's spending so far, plus the estimates of the requests
 * in flight, plus this request's estimate would stay within the cap. Spending
 * follows each attempt's actual usage as it arrives (a blocked answer that
 * reports tokens still costs). All figures are ESTIMATES of the user's Google
 * usage from BatchGen's price list (K9), never a BatchGen charge.
 */
import type { Job, JobItem } from "../core/protocol.ts";
import { itemSettings } from "../core/protocol_check.ts";
import {
  costFromUsage,
  estimateImageUsd,
  formatUsd,
  type Usage,
} from "../core/cost.ts";

// Sums of doubles may miss an exact cap by a few ulps; a cap is never meant
// to that precision (1e-9 USD).
const TOLERANCE_USD = 1e-9;

/** The pool's view of a capped job. */
export interface BudgetGuard {
  /** The cap in USD. */
  readonly capUsd: number;
  /** Estimated USD spent on the batch so far (earlier runs included). */
  readonly spentUsd: number;
  /** Whether `item` may start now without the cap being exceeded. */
  allows(item: JobItem): boolean;
  /** Books an in-flight request's estimate (call when it starts). */
  reserve(item: JobItem): void;
  /** Releases what `reserve` booked (call when the request has finished). */
  release(item: JobItem): void;
  /** Adds one attempt's actual usage to the spending. */
  spend(usage: Usage, item: JobItem): void;
  /** The `batch-stopped` message once nothing more may start. */
  stopMessage(): string;
}

/** A guard for `job`, or `undefined` when the job has no cap. */
export function createBudgetGuard(job: Job): BudgetGuard | undefined {
  const cap = job.budgetUsd;
  if (cap === undefined) return undefined;
  let spent = job.spentUsd ?? 0;
  let reserved = 0;
  let unknownPrice = false;
  const estimate = (item: JobItem): number | null => {
    const { model, imageSize } = itemSettings(job, item);
    return estimateImageUsd(
      model,
      imageSize ?? "",
      item.prompt.length,
      item.references?.length ?? 0,
    );
  };
  let unpriced = job.model;
  return {
    capUsd: cap,
    get spentUsd() {
      return spent;
    },
    allows(item) {
      const usd = estimate(item);
      if (usd === null) {
        unknownPrice = true;
        unpriced = itemSettings(job, item).model;
        return false;
      }
      return spent + reserved + usd <= cap + TOLERANCE_USD;
    },
    reserve(item) {
      reserved += estimate(item) ?? 0;
    },
    release(item) {
      reserved = Math.max(0, reserved - (estimate(item) ?? 0));
    },
    spend(usage, item) {
      // An unknown model was already refused by `allows`.
      spent += costFromUsage(itemSettings(job, item).model, usage) ?? 0;
    },
    stopMessage() {
      if (unknownPrice) {
        return `Stopped before starting: BatchGen has no price for ${unpriced}, so your budget cap of ${
          formatUsd(cap)
        } cannot be enforced. Remove the cap to run this batch.`;
      }
      return `Stopped at your budget cap of ${formatUsd(cap)}: about ${
        formatUsd(spent)
      } of estimated Google usage so far. Raise the cap and Resume to continue.`;
    },
  };
}
