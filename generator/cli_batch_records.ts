/**
 * A CLI batch in Batch mode, held in its state file (cli_batch_state.ts) as
 * the server holds one in its database, and changed by the same rules: a
 * result is recorded only for an item still `submitted` (so a second sync
 * never records an image or its cost twice, as db/google_job_queries.ts
 * recordJobResult), an ended job's unanswered rows get the server's reasons
 * (engine/batch_sync.ts), and the batch is settled from its items' statuses
 * (db/run_queries.ts settleBatch). The engine's versions sit behind the
 * database, which the generator may not import (tests/architecture_test.ts),
 * so these mirror them; the rules they apply come from core/
 * (core/batch_results.ts, core/status.ts).
 */
import {
  ENDED_JOB_STATES,
  type JobResult,
  unansweredResult,
} from "../core/batch_results.ts";
import { buildManifest } from "../core/manifest.ts";
import type { GoogleJob } from "../core/records.ts";
import {
  batchCounts,
  batchStatusFrom,
  countStatuses,
  failedFields,
  succeededFields,
} from "../core/status.ts";
import type { CliBatchState } from "./cli_batch_state.ts";

export { ENDED_JOB_STATES as ENDED, type JobResult };

/**
 * Records one item's result if it is still `submitted`; false when it was
 * collected before (nothing changes then).
 */
export function recordJobResult(
  state: CliBatchState,
  itemId: string,
  result: JobResult,
  now = new Date(),
): boolean {
  const item = state.items.find((i) => i.id === itemId);
  if (!item || item.status !== "submitted") return false;
  if (result.kind === "cancelled") {
    item.status = "cancelled";
    return true;
  }
  if (result.usage) {
    const u = result.usage;
    item.promptTokens = (item.promptTokens ?? 0) + u.promptTokens;
    item.outputTokens = (item.outputTokens ?? 0) + u.outputTokens;
    item.imageTokens = (item.imageTokens ?? 0) + u.imageTokens;
    item.thoughtTokens = (item.thoughtTokens ?? 0) + u.thoughtTokens;
    if (result.costUsd !== null) {
      item.costUsd = (item.costUsd ?? 0) + result.costUsd;
    }
  }
  item.attempts++;
  if (result.kind === "failure") {
    Object.assign(item, failedFields(result.failure, now));
    return true;
  }
  Object.assign(item, succeededFields(now));
  const { saved } = result;
  state.images = state.images.filter((image) => image.itemId !== itemId);
  state.images.push({
    id: itemId,
    itemId,
    batchId: state.batch.id,
    ...saved,
    width: saved.width ?? null,
    height: saved.height ?? null,
    createdAt: now,
  });
  return true;
}

/** The reason an item gets when its ended job has no result for it. */
export const unanswered = unansweredResult;

/** Counts, cost and status from the items, as the server settles a batch. */
export function settle(
  state: CliBatchState,
  statusMessage: string | null,
): void {
  const statuses = countStatuses(state.items);
  const counts = batchCounts(statuses);
  Object.assign(state.batch, {
    succeededCount: counts.succeeded,
    failedCount: counts.failed,
    blockedCount: counts.blocked,
    actualCostUsd: state.items.reduce((sum, i) => sum + (i.costUsd ?? 0), 0),
    status: batchStatusFrom(statuses),
    statusMessage,
    updatedAt: new Date(),
  });
}

/** What the batch says about its jobs after a sync. */
export function syncMessage(
  state: CliBatchState,
  problems: readonly string[],
  dir: string,
): string | null {
  const waiting = state.jobs.filter((j) => !j.collected);
  if (problems.length > 0) return problems[0]!;
  if (waiting.length === 0) return state.notSubmitted;
  return `At Google since ${waitingSince(waiting)} UTC (${waiting.length} job${
    waiting.length === 1 ? "" : "s"
  } ${
    waiting.every((j) => j.state === "pending") ? "queued" : "in progress"
  }). Collect the results with: deno task generate --sync ${dir}`;
}

function waitingSince(jobs: readonly GoogleJob[]): string {
  return jobs[0]!.createdAt.toISOString().slice(11, 16);
}

/** The server's manifest document for the batch, written by the CLI. */
export function manifestOf(state: CliBatchState) {
  return buildManifest(
    state.batch,
    state.items,
    state.images,
    "BatchGen CLI",
    state.references,
  );
}
