/** The JSON API's batch routes: key check, create, list, read, download, cancel, delete. */
import { Hono } from "hono";
import type { AppDeps, AppEnv } from "../env.ts";
import {
  deleteBatch,
  listBatches,
  listImages,
  listItems,
} from "../../db/batch_queries.ts";
import { parseBatchInput } from "../../core/batch_input.ts";
import { batchJson, itemJson } from "./json.ts";
import { removeBatchFiles, zipResponse } from "../../engine/batch_files.ts";
import { buildManifest } from "../../core/manifest.ts";
import { storeNewBatch } from "../../engine/batches.ts";
import { cursorProblem, readJsonBody } from "../request_input.ts";
import { apiError, withOwnBatch } from "../problem.ts";
import { readApiKey } from "./runs.ts";

/** Routes under /api other than the run stream. */
export function apiBatchRoutes(deps: AppDeps) {
  const { db, config, activeRuns } = deps;
  const app = new Hono<AppEnv>();

  app.post("/keys/validate", async (c) => {
    c.header("Cache-Control", "no-store");
    const key = readApiKey(c, config.trustProxy);
    if (!key.ok) return key.response;
    const result = await deps.checkKey(key.value, config.geminiBaseUrl, {
      signal: c.req.raw.signal,
    });
    if (!result.ok) {
      return apiError(
        c,
        result.status === 422 ? 422 : 502,
        result.code,
        result.message,
      );
    }
    return c.json({
      ok: true,
      models: result.models.map((m) => ({
        id: m.id,
        displayName: m.displayName,
        supported: Boolean(m.known),
        aspectRatios: m.known?.aspectRatios ?? null,
        imageSizes: m.known?.imageSizes ?? null,
      })),
    });
  });

  app.post("/batches", async (c) => {
    if (
      !c.req.header("content-type")?.toLowerCase().startsWith(
        "application/json",
      )
    ) {
      return apiError(
        c,
        415,
        "unsupported_media_type",
        "Send the batch as a JSON body with Content-Type: application/json.",
      );
    }
    const json = await readJsonBody(c);
    if (!json.ok) return apiError(c, 400, "malformed_json", json.message);
    const body = json.value;
    if (!body || typeof body !== "object" || Array.isArray(body)) {
      return apiError(
        c,
        400,
        "malformed_json",
        "The request body must be a JSON object.",
      );
    }
    const parsed = parseBatchInput(body);
    if (!parsed.ok) {
      const first = Object.values(parsed.errors)[0] ?? "Invalid batch.";
      return apiError(c, 422, "invalid_input", first, {
        fields: parsed.errors,
      });
    }
    const batch = await storeNewBatch(
      db,
      c.get("workspaceId"),
      parsed.input,
      config.concurrency,
    );
    return c.json(batchJson(batch), 201);
  });

  app.get("/batches", async (c) => {
    const badCursor = cursorProblem(c.req.query("cursor"));
    if (badCursor) return apiError(c, 400, "bad_cursor", badCursor);
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
      return c.json({
        ...batchJson(batch),
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
      async (c, batch) =>
        c.json(
          buildManifest(
            batch,
            await listItems(db, batch.id),
            await listImages(db, batch.id),
          ),
        ),
    ),
  );

  app.get(
    "/batches/:id/download.zip",
    withOwnBatch(deps, (_c, batch) => zipResponse(db, config.imagesDir, batch)),
  );

  app.post(
    "/batches/:id/cancel",
    withOwnBatch(deps, (c, batch) => {
      const cancelled = activeRuns.cancel(batch.id);
      return c.json(
        { cancelled, batch: batchJson(batch) },
        cancelled ? 202 : 409,
      );
    }),
  );

  app.delete(
    "/batches/:id",
    withOwnBatch(deps, async (c, batch) => {
      if (activeRuns.has(batch.id)) {
        return apiError(
          c,
          409,
          "running",
          "Cancel the run before deleting the batch.",
        );
      }
      await deleteBatch(db, batch.id);
      await removeBatchFiles(config.imagesDir, batch.id);
      return c.body(null, 204);
    }),
  );

  return app;
}
