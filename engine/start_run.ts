/**
 * Starting a run, the same for the page (SSE) and the API (NDJSON): the
 * budget check, the per-workspace cap and the one-run-per-batch claim (in
 * this process, then across instances through the batch's lease), and the
 * run itself with a scrubbed log of any failure and the claim released.
 */
import type { Batch } from "../core/records.ts";
import type { RunMode } from "../core/status.ts";
import { budgetProblem, parseBudgetChange } from "../core/budget.ts";
import { refuse, type Result } from "../core/result.ts";
import { scrubError } from "../core/scrub.ts";
import {
  findBatchById,
  setBatchBudget,
  workspaceUsage,
} from "../db/batch_queries.ts";
import { runFits } from "../core/quota.ts";
import { instanceFullMessage, RUNNING_CAP_MESSAGE } from "./active_runs.ts";
import type { EngineDeps } from "./deps.ts";
import { runBatch, type RunUpdate } from "./run_batch.ts";
import { holdRunLease, type LeaseConfig, type RunLease } from "./leases.ts";
import { batchLockFree } from "../lib/batch_lock.ts";

/** How long a Resume waits for a generator orphaned by a crash to exit. */
const ORPHAN_WAIT_MS = 3_000;

/** Why a Resume is refused while an orphaned generator still saves. */
export const ORPHAN_FINISHING_MESSAGE =
  "A generator started before BatchGen restarted is still saving this batch's images. Try again in a minute.";

/** A batch claimed for one run. */
export interface Claim {
  batch: Batch;
  controller: AbortController;
  /** The batch's lease across instances, renewed until the run ends. */
  lease: RunLease;
}

/**
 * Applies an optional new budget cap and claims the batch for a run.
 * `rawBudget`: undefined keeps the cap, blank/null removes it, else a number.
 */
export async function claimRun(
  deps: Pick<EngineDeps, "db" | "activeRuns"> & {
    config: Pick<EngineDeps["config"], "quota"> & LeaseConfig & {
      /** Where the batch's generator lock lives; unset in some tests. */
      dataDir?: string;
    };
    log?: EngineDeps["log"];
  },
  batch: Batch,
  rawBudget: unknown,
): Promise<Result<Claim>> {
  const change = parseBudgetChange(rawBudget);
  if (!change.ok) return change;
  const capped = change.value === undefined
    ? batch
    : { ...batch, budgetUsd: change.value };
  const problem = budgetProblem(capped);
  if (problem) return refuse("budget_unenforceable", problem);
  // Images take room: a workspace at its storage quota runs nothing more.
  const room = runFits(
    deps.config.quota,
    await workspaceUsage(deps.db, batch.workspaceId),
  );
  if (!room.ok) return room;
  // No await between the capacity check and start(): two concurrent starts
  // cannot both pass.
  if (deps.activeRuns.full()) {
    return refuse(
      "server_busy",
      instanceFullMessage(deps.activeRuns.maxTotal),
      { retryAfterSeconds: 30 },
    );
  }
  if (deps.activeRuns.atCapacity(batch.workspaceId)) {
    return refuse("too_many_running", RUNNING_CAP_MESSAGE);
  }
  const controller = deps.activeRuns.start(batch.id, batch.workspaceId);
  if (!controller) {
    return refuse("already_running", "This batch is already running.");
  }
  let lease: RunLease | undefined;
  try {
    // Another instance on the same database may run it: its lease says so.
    const held = await holdRunLease(deps, batch.id, controller);
    if (!held.ok) {
      deps.activeRuns.finish(batch.id, controller);
      return held;
    }
    lease = held.value;
    // A generator orphaned by a crash (its server was SIGKILLed) may still
    // finish and save the requests it had in flight: never race it.
    if (
      deps.config.dataDir &&
      !await batchLockFree(deps.config.dataDir, batch.id, ORPHAN_WAIT_MS)
    ) {
      await lease.release();
      deps.activeRuns.finish(batch.id, controller);
      return refuse("already_running", ORPHAN_FINISHING_MESSAGE, {
        retryAfterSeconds: 30,
      });
    }
    // Read again under the lease: a run that just ended on another instance
    // changed the counts and the cost spent, which the budget cap counts.
    const current = await findBatchById(deps.db, batch.id) ?? batch;
    const stored = await setBatchBudget(deps.db, current, capped.budgetUsd);
    return { ok: true, value: { batch: stored, controller, lease } };
  } catch (error) {
    await lease?.release();
    deps.activeRuns.finish(batch.id, controller);
    throw error;
  }
}

/** Runs a claimed batch to its end; undefined when it failed (logged, scrubbed). */
export async function runClaimed(
  deps: EngineDeps,
  { batch, controller, lease }: Claim,
  { apiKey, mode, now = false, onUpdate, onFailure }: {
    apiKey: string;
    mode: RunMode;
    /** Batch mode: run the items now at the standard price. */
    now?: boolean;
    onUpdate: (update: RunUpdate) => void | Promise<void>;
    onFailure: () => void | Promise<void>;
  },
): Promise<Batch | undefined> {
  try {
    return await runBatch(deps, {
      batch,
      apiKey,
      mode,
      now,
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
    // After the run's last write: the batch is settled before another
    // instance may take it.
    await lease.release();
    deps.activeRuns.finish(batch.id, controller);
  }
}
