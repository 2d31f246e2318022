/**
 * Batch mode for scripts: `POST /api/batches/:id/sync` checks the batch's
 * jobs at Google with the key and saves what finished; the batch-mode side
 * of `POST /api/batches/:id/cancel` cancels them there (key needed).
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import type { Batch } from "../../core/records.ts";
import { batchJobs } from "../../db/google_job_queries.ts";
import { syncOwned } from "../../engine/batch_sync.ts";
import { apiProblem, withOwnBatch } from "../problem.ts";
import { batchJson, jobJson } from "./json.ts";
import { readApiKey } from "./key_header.ts";

/** Whether the batch has jobs at Google not yet collected. */
export async function hasOpenJobs(
  deps: Pick<AppDeps, "db">,
  batch: Batch,
): Promise<boolean> {
  return (await batchJobs(deps.db, batch.id)).some((job) => !job.collected);
}

/** Syncs (or cancels then syncs) and answers the batch with its jobs. */
export async function syncAnswer(
  deps: AppDeps,
  c: Context<AppEnv>,
  batch: Batch,
  cancel: boolean,
) {
  const key = readApiKey(c);
  if (!key.ok) return apiProblem(c, key.problem);
  const synced = await syncOwned(deps, batch, key.value, {
    signal: c.req.raw.signal,
    cancel,
  });
  if (!synced.ok) return apiProblem(c, synced.problem);
  const { batch: now, jobs, problems } = synced.value;
  return c.json({
    ...batchJson(now),
    jobs: jobs.map(jobJson),
    ...(problems.length > 0 ? { problems } : {}),
  }, cancel ? 202 : 200);
}

/** The Batch-mode API routes. */
export function apiGoogleBatchRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  app.post(
    "/batches/:id/sync",
    withOwnBatch(deps, (c, batch) => syncAnswer(deps, c, batch, false)),
  );
  return app;
}
