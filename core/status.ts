/**
 * The batch and item state machine, in one place. The database applies these
 * rules (db/run_queries.ts) and the CLI applies them to records in memory,
 * so a batch means the same thing wherever it ran.
 *
 * Item:  pending → running → succeeded | failed | blocked
 *        pending/running → interrupted | cancelled   (the run stopped)
 *        pending → submitted (in a job at Google, Batch mode) → succeeded |
 *        failed | blocked | cancelled, when a sync collects the job
 *        a run picks items up again by `runnableStatuses(mode)`.
 * Batch: derived from its items' statuses (`batchStatusFrom`).
 */
import type { BatchStatus, Item, ItemStatus } from "./records.ts";

/** The status of a batch when it is created, before any run. */
export const NEW_BATCH: BatchStatus = "draft";
/** The status of each item when its batch is created. */
export const NEW_ITEM: ItemStatus = "pending";

/** "resume" generates what is not done; "retry" also what failed or was blocked. */
export type RunMode = "resume" | "retry";

/** `?mode=retry` re-runs failed items too; anything else resumes. */
export function parseRunMode(value: string | undefined): RunMode {
  return value === "retry" ? "retry" : "resume";
}

const RESUMABLE: readonly ItemStatus[] = [
  "pending",
  "running",
  "interrupted",
  "cancelled",
];

/** Items that a run in `mode` would (re)generate. */
export function runnableStatuses(mode: RunMode): ItemStatus[] {
  // Retry also re-tries blocked items: safety filters misfire on harmless
  // prompts, and the user asked for it (each attempt is billed by Google).
  return mode === "retry"
    ? [...RESUMABLE, "failed", "blocked"]
    : [...RESUMABLE];
}

/** Statuses of items a run still holds; they move on when the run stops. */
export const IN_RUN: readonly ItemStatus[] = ["pending", "running"];

/** Statuses counted as "failed" in a batch's counts. */
export const FAILED: readonly ItemStatus[] = ["failed", "blocked"];

/** Whether an item ended without an image because its run stopped. */
export function isStopped(item: Pick<Item, "status">): boolean {
  return item.status === "interrupted" || item.status === "cancelled";
}

/** The fields an item takes when an attempt starts (the attempt count adds one). */
export function startedFields(now: Date) {
  return {
    status: "running" as const,
    startedAt: now,
    errorKind: null,
    errorMessage: null,
  };
}

/** The fields an item takes when its image is saved. */
export function succeededFields(now: Date) {
  return {
    status: "succeeded" as const,
    finishedAt: now,
    errorKind: null,
    errorMessage: null,
  };
}

/** The fields an item takes when it finally fails: a block is not a failure. */
export function failedFields(
  failure: { kind: string; message: string },
  now: Date,
) {
  return {
    status: failure.kind === "blocked" ? "blocked" as const : "failed" as const,
    errorKind: failure.kind,
    errorMessage: failure.message,
    finishedAt: now,
  };
}

/** How many items of a batch are in each status. */
export type StatusCounts = Partial<Record<ItemStatus, number>>;

/** Counts records by status (for records held in memory). */
export function countStatuses(
  items: readonly Pick<Item, "status">[],
): StatusCounts {
  const counts: StatusCounts = {};
  for (const { status } of items) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/** The counts a batch record shows. */
export function batchCounts(counts: StatusCounts) {
  const of = (statuses: readonly ItemStatus[]) =>
    statuses.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  return {
    total: Object.values(counts).reduce((sum, n) => sum + (n ?? 0), 0),
    succeeded: counts.succeeded ?? 0,
    failed: of(FAILED),
    blocked: counts.blocked ?? 0,
  };
}

/** A batch's status from its items' statuses (`running` while a run holds it). */
export function batchStatusFrom(
  counts: StatusCounts,
  { running = false }: { running?: boolean } = {},
): BatchStatus {
  const { total, succeeded, failed } = batchCounts(counts);
  if (running || (counts.running ?? 0) > 0) return "running";
  if ((counts.submitted ?? 0) > 0) return "submitted";
  if ((counts.interrupted ?? 0) > 0) return "interrupted";
  if ((counts.cancelled ?? 0) > 0) return "cancelled";
  if (succeeded === total) return "done";
  if (succeeded + failed < total) return "draft";
  return succeeded > 0 ? "partial" : "failed";
}

/** Why a run stopped early, as its AbortController's reason says. */
export type StopReason = "cancelled" | "disconnected" | "shutdown";

const STOP_MESSAGES: Record<StopReason | "crash", string> = {
  cancelled:
    "Cancelled. Images already saved are kept; paste your key and Resume to finish the rest.",
  disconnected:
    "Interrupted: the page was closed or the connection dropped. Paste your key and Resume to finish the rest.",
  shutdown:
    "Interrupted: BatchGen was stopped while this batch was running. Paste your key and Resume to finish the rest.",
  crash:
    "Interrupted: BatchGen stopped while this batch was running. Paste your key and Resume to finish the rest.",
};

/** What a batch says after the server stopped uncleanly during its run. */
export const INTERRUPTED_BY_CRASH = STOP_MESSAGES.crash;

/** How a run ended, as the server saw it. */
export interface RunEnd {
  /** The AbortController's reason when the run was aborted. */
  abortReason?: unknown;
  /** The generator's `batch-stopped` message (auth, quota, budget). */
  stopMessage: string | null;
  exitCode: number;
}

/**
 * Where the items a run still held go when it ends, and what the batch
 * says: a Cancel leaves them `cancelled`, any other early end `interrupted`
 * (both resumable); a clean finish leaves nothing open.
 */
export function afterRun(end: RunEnd): {
  openItemsBecome: ItemStatus | null;
  message: string | null;
} {
  if (end.abortReason !== undefined) {
    const reason = String(end.abortReason) as StopReason;
    return {
      openItemsBecome: reason === "cancelled" ? "cancelled" : "interrupted",
      message: STOP_MESSAGES[reason] ?? STOP_MESSAGES.disconnected,
    };
  }
  if (end.stopMessage !== null || end.exitCode !== 0) {
    return {
      openItemsBecome: "interrupted",
      message: end.stopMessage ??
        `Interrupted: the generator exited with code ${end.exitCode}. Paste your key and Resume to finish the rest.`,
    };
  }
  return { openItemsBecome: null, message: null };
}
