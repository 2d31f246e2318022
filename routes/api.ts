/** The JSON API (design.md §7): the same engine for scripts. */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { stream } from "hono/streaming";
import type { AppDeps, AppEnv } from "../app_env.ts";
import {
  deleteBatch,
  getBatch,
  listBatches,
  listImages,
  listItems,
  type RunMode,
} from "../db/batch_queries.ts";
import { RUNNING_CAP_MESSAGE } from "../lib/active_runs.ts";
import { parseApiKey } from "../lib/api_key.ts";
import { parseBatchInput } from "../lib/batch_input.ts";
import { batchJson, itemJson } from "../lib/batch_json.ts";
import {
  budgetProblem,
  parseBudgetChange,
  setBatchBudget,
} from "../lib/budget.ts";
import { removeBatchFiles, zipResponse } from "../lib/batch_files.ts";
import { buildManifest } from "../lib/manifest.ts";
import { storeNewBatch } from "../lib/new_batch.ts";
import { cursorProblem, readJsonBody } from "../lib/request_input.ts";
import { runBatch } from "../lib/run_batch.ts";
import { scrubError } from "../lib/scrub.ts";
import { keyTransportProblem } from "../lib/transport.ts";

/** `{ error: { code, message } }` with a status. */
export function apiError(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  extra = {},
) {
  return c.json({ error: { code, message, ...extra } }, status);
}

/** Routes under /api. */
export function apiRoutes(deps: AppDeps) {
  const { db, config, activeRuns, log } = deps;
  const app = new Hono<AppEnv>();

  function readKey(c: Context<AppEnv>) {
    const problem = keyTransportProblem(c, config.trustProxy);
    if (problem) {
      return {
        ok: false as const,
        response: apiError(c, 403, "insecure_transport", problem),
      };
    }
    const key = parseApiKey(c.req.header("x-goog-api-key"));
    if (!key.ok) {
      return {
        ok: false as const,
        response: apiError(
          c,
          400,
          "missing_key",
          `${key.message} Send it in the x-goog-api-key header.`,
        ),
      };
    }
    return key;
  }

  async function ownBatch(c: Context<AppEnv>) {
    return await getBatch(db, c.get("workspaceId"), c.req.param("id") ?? "");
  }

  app.post("/keys/validate", async (c) => {
    c.header("Cache-Control", "no-store");
    const key = readKey(c);
    if (!key.ok) return key.response;
    const result = await deps.checkKey(key.key, config.geminiBaseUrl);
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

  app.get("/batches/:id", async (c) => {
    const batch = await ownBatch(c);
    if (!batch) {
      return apiError(
        c,
        404,
        "not_found",
        "There is no such batch in this workspace.",
      );
    }
    const images = new Map(
      (await listImages(db, batch.id)).map((i) => [i.itemId, i]),
    );
    const items = await listItems(db, batch.id);
    return c.json({
      ...batchJson(batch),
      items: items.map((item) => itemJson(batch.id, item, images.get(item.id))),
    });
  });

  app.get("/batches/:id/manifest.json", async (c) => {
    const batch = await ownBatch(c);
    if (!batch) {
      return apiError(
        c,
        404,
        "not_found",
        "There is no such batch in this workspace.",
      );
    }
    return c.json(
      buildManifest(
        batch,
        await listItems(db, batch.id),
        await listImages(db, batch.id),
      ),
    );
  });

  app.get("/batches/:id/download.zip", async (c) => {
    const batch = await ownBatch(c);
    if (!batch) {
      return apiError(
        c,
        404,
        "not_found",
        "There is no such batch in this workspace.",
      );
    }
    return await zipResponse(db, config.imagesDir, batch);
  });

  app.post("/batches/:id/run", async (c) => {
    const batch = await ownBatch(c);
    if (!batch) {
      return apiError(
        c,
        404,
        "not_found",
        "There is no such batch in this workspace.",
      );
    }
    const key = readKey(c);
    if (!key.ok) return key.response;
    // An optional new budget cap: `budgetUsd` in a JSON body, else the query.
    let raw: unknown = c.req.query("budgetUsd");
    if (
      c.req.header("content-type")?.toLowerCase().startsWith(
        "application/json",
      )
    ) {
      const text = await c.req.text();
      if (text.trim()) {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return apiError(
            c,
            400,
            "malformed_json",
            "The request body is not valid JSON.",
          );
        }
        if (!body || typeof body !== "object" || Array.isArray(body)) {
          return apiError(
            c,
            400,
            "malformed_json",
            "The request body must be a JSON object.",
          );
        }
        if ("budgetUsd" in body) raw = body.budgetUsd;
      }
    }
    const change = parseBudgetChange(raw);
    if (!change.ok) {
      return apiError(c, 400, "invalid_budget", change.message);
    }
    const capped = change.value === undefined
      ? batch
      : { ...batch, budgetUsd: change.value };
    const problem = budgetProblem(capped);
    if (problem) return apiError(c, 422, "budget_unenforceable", problem);
    // No await between the check and start(): concurrent starts cannot both pass.
    if (activeRuns.atCapacity(batch.workspaceId)) {
      return apiError(c, 409, "too_many_running", RUNNING_CAP_MESSAGE);
    }
    const controller = activeRuns.start(batch.id, batch.workspaceId);
    if (!controller) {
      return apiError(
        c,
        409,
        "already_running",
        "This batch is already running.",
      );
    }
    let current = batch;
    try {
      current = await setBatchBudget(db, batch, capped.budgetUsd);
    } catch (error) {
      activeRuns.finish(batch.id, controller);
      throw error;
    }
    const mode: RunMode = c.req.query("mode") === "retry" ? "retry" : "resume";
    c.header("Content-Type", "application/x-ndjson");
    c.header("Cache-Control", "no-store");
    return stream(c, async (out) => {
      out.onAbort(() => controller.abort("disconnected"));
      const line = (value: unknown) => out.write(JSON.stringify(value) + "\n");
      try {
        const final = await runBatch(deps, {
          batch: current,
          apiKey: key.key,
          mode,
          signal: controller.signal,
          onUpdate: async ({ event }) => {
            if (event.type !== "finished" && !out.aborted) await line(event);
          },
        });
        if (!out.aborted) {
          await line({ type: "batch", batch: batchJson(final) });
        }
      } catch (error) {
        log.withSecrets([key.key]).error("api run failed", {
          batchId: batch.id,
          error: scrubError(error, [key.key]),
        });
        if (!out.aborted) {
          await line({
            type: "error",
            error: {
              code: "internal",
              message:
                "The run stopped because of an internal error; resume it later.",
            },
          });
        }
      } finally {
        activeRuns.finish(batch.id, controller);
      }
    });
  });

  app.post("/batches/:id/cancel", async (c) => {
    const batch = await ownBatch(c);
    if (!batch) {
      return apiError(
        c,
        404,
        "not_found",
        "There is no such batch in this workspace.",
      );
    }
    const cancelled = activeRuns.cancel(batch.id);
    return c.json(
      { cancelled, batch: batchJson(batch) },
      cancelled ? 202 : 409,
    );
  });

  app.delete("/batches/:id", async (c) => {
    const batch = await ownBatch(c);
    if (!batch) {
      return apiError(
        c,
        404,
        "not_found",
        "There is no such batch in this workspace.",
      );
    }
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
  });

  app.notFound((c) => apiError(c, 404, "not_found", "No such API route."));
  return app;
}
