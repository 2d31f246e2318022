/** `POST /api/batches/:id/run`: the engine for scripts, as an NDJSON stream. */
import { Hono } from "hono";
import type { Context } from "hono";
import { stream } from "hono/streaming";
import type { AppDeps, AppEnv } from "../app_env.ts";
import type { RunMode } from "../db/batch_queries.ts";
import type { Batch } from "../db/schema.ts";
import { RUNNING_CAP_MESSAGE } from "../lib/active_runs.ts";
import { type KeyResult, parseApiKey } from "../lib/api_key.ts";
import { batchJson } from "../lib/batch_json.ts";
import {
  budgetProblem,
  parseBudgetChange,
  setBatchBudget,
} from "../lib/budget.ts";
import { readJsonBody } from "../lib/request_input.ts";
import { runBatch } from "../lib/run_batch.ts";
import { scrubError } from "../lib/scrub.ts";
import { keyTransportProblem } from "../lib/transport.ts";
import { apiError, withOwnBatch } from "./api_error.ts";

type Checked<T> = { ok: true; value: T } | { ok: false; response: Response };

/** The key from `x-goog-api-key`, after the transport rule (K7). */
export function readApiKey(
  c: Context<AppEnv>,
  trustProxy: boolean,
): Checked<string> {
  const problem = keyTransportProblem(c, trustProxy);
  if (problem) {
    return {
      ok: false,
      response: apiError(c, 403, "insecure_transport", problem),
    };
  }
  const key: KeyResult = parseApiKey(c.req.header("x-goog-api-key"));
  if (!key.ok) {
    return {
      ok: false,
      response: apiError(
        c,
        400,
        "missing_key",
        `${key.message} Send it in the x-goog-api-key header.`,
      ),
    };
  }
  return { ok: true, value: key.key };
}

/** An optional new budget cap: `budgetUsd` in a JSON body, else in the query. */
async function readBudget(
  c: Context<AppEnv>,
  batch: Batch,
): Promise<Checked<Batch>> {
  let raw: unknown = c.req.query("budgetUsd");
  const isJson = c.req.header("content-type")?.toLowerCase().startsWith(
    "application/json",
  );
  if (isJson) {
    const json = await readJsonBody(c, { allowEmpty: true });
    const body = json.ok ? json.value : undefined;
    if (
      !json.ok ||
      (body !== undefined &&
        (!body || typeof body !== "object" || Array.isArray(body)))
    ) {
      const message = json.ok
        ? "The request body must be a JSON object."
        : json.message;
      return {
        ok: false,
        response: apiError(c, 400, "malformed_json", message),
      };
    }
    if (body && "budgetUsd" in body) raw = body.budgetUsd;
  }
  const change = parseBudgetChange(raw);
  if (!change.ok) {
    return {
      ok: false,
      response: apiError(c, 400, "invalid_budget", change.message),
    };
  }
  const capped = change.value === undefined
    ? batch
    : { ...batch, budgetUsd: change.value };
  const problem = budgetProblem(capped);
  if (problem) {
    return {
      ok: false,
      response: apiError(c, 422, "budget_unenforceable", problem),
    };
  }
  return { ok: true, value: capped };
}

/** The API run route. */
export function apiRunRoutes(deps: AppDeps) {
  const { db, config, activeRuns, log } = deps;
  const app = new Hono<AppEnv>();

  app.post(
    "/batches/:id/run",
    withOwnBatch(deps, async (c, batch) => {
      const key = readApiKey(c, config.trustProxy);
      if (!key.ok) return key.response;
      const capped = await readBudget(c, batch);
      if (!capped.ok) return capped.response;
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
      let current: Batch;
      try {
        current = await setBatchBudget(db, batch, capped.value.budgetUsd);
      } catch (error) {
        activeRuns.finish(batch.id, controller);
        throw error;
      }
      const mode: RunMode = c.req.query("mode") === "retry"
        ? "retry"
        : "resume";
      c.header("Content-Type", "application/x-ndjson");
      c.header("Cache-Control", "no-store");
      return stream(c, async (out) => {
        out.onAbort(() => controller.abort("disconnected"));
        const line = (value: unknown) =>
          out.write(JSON.stringify(value) + "\n");
        try {
          const final = await runBatch(deps, {
            batch: current,
            apiKey: key.value,
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
          log.withSecrets([key.value]).error("api run failed", {
            batchId: batch.id,
            error: scrubError(error, [key.value]),
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
    }),
  );
  return app;
}
