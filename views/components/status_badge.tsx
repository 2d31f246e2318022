/**
 * Statuses in words a person would use, the same on every page: the batch
 * page, History, the gallery, the run line, each tile and the viewer.
 */
import type { BatchStatus, ItemStatus } from "../../core/records.ts";

const BATCH_WORDS: Record<BatchStatus, string> = {
  draft: "Not started",
  running: "Running",
  submitted: "At Google",
  done: "Done",
  partial: "Finished with failures",
  failed: "Failed",
  interrupted: "Interrupted",
  cancelled: "Cancelled",
};

const ITEM_WORDS: Record<ItemStatus, string> = {
  pending: "Not started",
  running: "Generating…",
  submitted: "At Google",
  succeeded: "Done",
  failed: "Failed",
  blocked: "Blocked by Google",
  interrupted: "Interrupted",
  cancelled: "Cancelled",
};

/** A batch's status in words. */
export function batchStatusText(status: BatchStatus): string {
  return BATCH_WORDS[status];
}

/** An item's status in words. */
export function itemStatusText(status: ItemStatus): string {
  return ITEM_WORDS[status];
}

/** A batch's status as a coloured badge. */
export function BatchStatusBadge({ status }: { status: BatchStatus }) {
  return (
    <span class={`badge badge-${status}`} data-status={status}>
      {batchStatusText(status)}
    </span>
  );
}
