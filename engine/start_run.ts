/**
 * Starting a run, the same for the page (SSE) and the API (NDJSON): the
 * budget check, the per-workspace cap and the one-run-per-batch claim, and
 * the run itself with a scrubbed log of any failure and the claim released.
 */
import type { AppDeps } from "../http/env.ts";
import type { RunMode } from "../db/run_queries.ts";
import type { Batch } from "../db/schema.ts";
import { RUNNING_CAP_MESSAGE } from "./active_runs.ts";
import { budgetProblem, parseBudgetChange, setBatchBudget } from "../core/budget.ts";
import { runBatch, type RunUpdate } from "./run_batch.ts";
import { scrubError } from "../core/scrub.ts";

/** `?mode=retry` re-runs failed items too; anything else resumes. */
export function parseRunMode(value: string | undefined): RunMode {
  return value === "retry" ? "retry" : "resume";
}

/** A batch claimed for one run. */
export interface Claim {
  batch: Batch;
  controller: AbortController;
}

export type ClaimResult =
  | { ok: true; claim: Claim }
  | { ok: false; status: 400 | 409 | 422; code: string; message: string };

/**
 * Applies an optional new budget cap and claims the batch for a run.
 * `rawBudget`: undefined keeps the cap, blank/null removes it, else a number.
 */
export async function claimRun(
  deps: Pick<AppDeps, "db" | "activeRuns">,
  batch: Batch,
  rawBudget: unknown,
): Promise<ClaimResult> {
  const change = parseBudgetChange(rawBudget);
  if (!change.ok) {
    return {
      ok: false,
      status: 400,
      code: "invalid_budget",
      message: change.message,
    };
  }
  const capped = change.value === undefined
    ? batch
    : { ...batch, budgetUsd: change.value };
  const problem = budgetProblem(capped);
  if (problem) {
    return {
      ok: false,
      status: 422,
      code: "budget_unenforceable",
      message: problem,
    };
  }
  // No await between the capacity check and start(): two concurrent starts
  // cannot both pass.
  if (deps.activeRuns.atCapacity(batch.workspaceId)) {
    return {
      ok: false,
      status: 409,
      code: "too_many_running",
      message: RUNNING_CAP_MESSAGE,
    };
  }
  const controller = deps.activeRuns.start(batch.id, batch.workspaceId);
  if (!controller) {
    return {
      ok: false,
      status: 409,
      code: "already_running",
      message: "This batch is already running.",
    };
  }
  try {
    const stored = await setBatchBudget(deps.db, batch, capped.budgetUsd);
    return { ok: true, claim: { batch: stored, controller } };
  } catch (error) {
    deps.activeRuns.finish(batch.id, controller);
    throw error;
  }
}

/** Runs a claimed batch to its end; undefined when it failed (logged, scrubbed). */
export async function runClaimed(
  deps: AppDeps,
  { batch, controller }: Claim,
  { apiKey, mode, onUpdate, onFailure }: {
    apiKey: string;
    mode: RunMode;
    onUpdate: (update: RunUpdate) => void | Promise<void>;
    onFailure: () => void | Promise<void>;
  },
): Promise<Batch | undefined> {
  try {
    return await runBatch(deps, {
      batch,
      apiKey,
      mode,
      signal: controller.signal,
      onUpdate,
    });
  } catch (error) {
    deps.log.withSecrets([apiKey]).error("run failed", {
      batchId: batch.id,
      error: scrubError(error, [apiKey]),
    });
    await onFailure();
    return undefined;
  } finally {
    deps.activeRuns.finish(batch.id, controller);
  }
}
