/**
 * Batch mode's rules for one item's result, shared by the server's sync
 * (engine/batch_sync.ts) and the CLI's (generator/cli_batch_sync.ts): what
 * a result becomes (an image, or a failure with a reason), its cost at the
 * Batch API's price, and the reason an item gets when its job ended without
 * a result for it.
 */
import type { SavedImage } from "./protocol.ts";
import { atModePrice, costFromUsage, type Usage } from "./cost.ts";
import type { JobState } from "./records.ts";

/** States after which a job at Google changes no more. */
export const ENDED_JOB_STATES: readonly JobState[] = [
  "succeeded",
  "failed",
  "cancelled",
  "expired",
];

/** One result of a job for one item. */
export type JobResult =
  | { kind: "image"; saved: SavedImage; usage?: Usage; costUsd: number | null }
  | {
    kind: "failure";
    failure: { kind: string; message: string };
    usage?: Usage;
    costUsd: number | null;
  }
  | { kind: "cancelled" };

/** Google's answer for one request, as the Batch API client reads it. */
export type BatchOutcome =
  | { ok: true; usage?: Usage }
  | { ok: false; failure: { kind: string; message: string }; usage?: Usage };

/**
 * The record of one answer: the image `save` writes, or the failure. The
 * usage is priced at the Batch API's rate either way (Google bills it).
 * A save that throws is a `storage` failure, described by `describe`.
 */
export async function batchItemResult(
  outcome: BatchOutcome,
  model: string,
  save: () => Promise<SavedImage>,
  describe: (error: unknown) => string,
): Promise<JobResult> {
  const usage = outcome.usage;
  const costUsd = usage
    ? atModePrice(costFromUsage(model, usage), "batch")
    : null;
  if (!outcome.ok) {
    return { kind: "failure", failure: outcome.failure, usage, costUsd };
  }
  try {
    return { kind: "image", saved: await save(), usage, costUsd };
  } catch (error) {
    return {
      kind: "failure",
      failure: {
        kind: "storage",
        message: `Cannot save the image: ${describe(error)}`,
      },
      usage,
      costUsd,
    };
  }
}

/** The result an item gets when its ended job has none for it. */
export function unansweredResult(
  state: JobState,
  error: string | null | undefined,
): JobResult {
  switch (state) {
    case "cancelled":
      return { kind: "cancelled" };
    case "expired":
      return failure(
        "expired",
        "Google's Batch API did not get to this image within its time limit (about 48 hours). Retry failed runs it again.",
      );
    case "failed":
      return failure(
        "server",
        `Google's Batch API failed the job${
          error ? `: ${error}` : ""
        }. Retry failed runs it again.`,
      );
    default:
      return failure(
        "malformed",
        "Google's finished job had no result for this image.",
      );
  }
}

function failure(kind: string, message: string): JobResult {
  return { kind: "failure", failure: { kind, message }, costUsd: null };
}
