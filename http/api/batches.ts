/** The JSON API's batch routes: create, list, read, manifest, download, cancel, delete. */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import { listBatches, listImages, listItems } from "../../db/batch_queries.ts";
import { buildBatch } from "../../core/batch_plan.ts";
import { workspaceReferenceLookup } from "../../engine/reference_lookup.ts";
import { buildManifest } from "../../core/manifest.ts";
import { removeBatch, storeNewBatch } from "../../engine/batches.ts";
import { moreLikeItem, rerunBatch } from "../../engine/reuse.ts";
import { LIMITS } from "../../core/limits.ts";
import { batchReferences, zipResponse } from "../../engine/batch_files.ts";
import { cursorProblem, readJsonObject } from "../request_input.ts";
import { apiError, apiProblem, withOwnBatch } from "../problem.ts";
import { batchJson, itemJson, jobJson, previewJson } from "./json.ts";
import { hasOpenJobs, syncAnswer } from "./google_batch.ts";
import { cancelElsewhere, runningElsewhere } from "../../engine/leases.ts";
import { batchJobs } from "../../db/google_job_queries.ts";

/** Routes under /api/batches other than the run stream. */
export function apiBatchRoutes(deps: AppDeps) {
  const { db, config, activeRuns } = deps;
  const app = new Hono<AppEnv>();

  app.post("/batches", async (c) => {
    const type = c.req.header("content-type")?.toLowerCase() ?? "";
    if (!type.startsWith("application/json")) {
      return apiError(
        c,
        "unsupported_media_type",
        "Send the batch as a JSON body with Content-Type: application/json.",
      );
    }
    const body = await readJsonObject(c);
    if (!body.ok) return apiProblem(c, body.problem);
    const plan = buildBatch(body.value, {
      defaultConcurrency: config.concurrency,
      references: await workspaceReferenceLookup(
        db,
        c.get("workspaceId"),
        body.value,
      ),
    });
    if (!plan.ok) return apiProblem(c, plan.problem);
    if (plan.value.dryRun) return c.json(previewJson(plan.value));
    const stored = await storeNewBatch(
      db,
      c.get("workspaceId"),
      plan.value,
      config.quota,
    );
    if (!stored.ok) return apiProblem(c, stored.problem);
    return c.json(batchJson(stored.value), 201);
  });

  app.get("/batches", async (c) => {
    const badCursor = cursorProblem(c.req.query("cursor"));
    if (badCursor) return apiError(c, "bad_cursor", badCursor);
    const page = await listBatches(db, c.get("workspaceId"), {
      cursor: c.req.query("cursor"),
      query: c.req.query("q")?.trim().slice(0, 200),
      limit: Math.min(Math.max(Number(c.req.query("limit")) || 20, 1), 100),
    });
    return c.json({
      batches: page.batches.map(batchJson),
      nextCursor: page.nextCursor,
    });
  });

  app.get(
    "/batches/:id",
    withOwnBatch(deps, async (c, batch) => {
      const images = new Map(
        (await listImages(db, batch.id)).map((i) => [i.itemId, i]),
      );
      const items = await listItems(db, batch.id);
      const jobs = await batchJobs(db, batch.id);
      return c.json({
        ...batchJson(batch),
        ...(batch.mode === "batch" ? { jobs: jobs.map(jobJson) } : {}),
        items: items.map((item) =>
          itemJson(batch.id, item, images.get(item.id))
        ),
      });
    }),
  );

  app.get(
    "/batches/:id/manifest.json",
    withOwnBatch(
      deps,
      async (c, batch) => {
        const items = await listItems(db, batch.id);
        return c.json(
          buildManifest(
            batch,
            items,
            await listImages(db, batch.id),
            "BatchGen",
            await batchReferences(db, batch, items),
          ),
        );
      },
    ),
  );

  app.get(
    "/batches/:id/download.zip",
    withOwnBatch(deps, (_c, batch) => zipResponse(db, config.imagesDir, batch)),
  );

  app.post(
    "/batches/:id/cancel",
    withOwnBatch(deps, async (c, batch) => {
      // Batch mode: the jobs at Google are cancelled there, with the key.
      if (await hasOpenJobs(deps, batch)) {
        return await syncAnswer(deps, c, batch, true);
      }
      // Run on another instance: it stops at its next heartbeat.
      const cancelled = activeRuns.cancel(batch.id) ||
        await cancelElsewhere(db, batch.id);
      return c.json(
        { cancelled, batch: batchJson(batch) },
        cancelled ? 202 : 409,
      );
    }),
  );

  // Reuse: a new draft batch with every row as it ran, or N more of one item.
  app.post(
    "/batches/:id/rerun",
    withOwnBatch(deps, async (c, batch) => {
      const made = await rerunBatch(db, batch, config.quota);
      if (!made.ok) return apiProblem(c, made.problem);
      return c.json(batchJson(made.value), 201);
    }),
  );

  app.post(
    "/batches/:id/items/:itemId/more",
    withOwnBatch(deps, async (c, batch) => {
      const item = (await listItems(db, batch.id)).find((i) =>
        i.id === c.req.param("itemId")
      );
      if (!item) {
        return apiError(c, "not_found", "There is no such item in this batch.");
      }
      const count = Number(c.req.query("count") ?? 4);
      if (
        !Number.isInteger(count) || count < 1 || count > LIMITS.imagesPerPrompt
      ) {
        return apiError(
          c,
          "invalid_input",
          `count: a whole number from 1 to ${LIMITS.imagesPerPrompt}.`,
        );
      }
      const made = await moreLikeItem(db, batch, item, count, config.quota);
      if (!made.ok) return apiProblem(c, made.problem);
      return c.json(batchJson(made.value), 201);
    }),
  );

  app.delete(
    "/batches/:id",
    withOwnBatch(deps, async (c, batch) => {
      if (
        activeRuns.has(batch.id) ||
        await runningElsewhere(db, config, batch.id)
      ) {
        return apiError(
          c,
          "running",
          "Cancel the run before deleting the batch.",
        );
      }
      await removeBatch(db, config.imagesDir, batch);
      return c.body(null, 204);
    }),
  );

  return app;
}
