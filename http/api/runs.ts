/** `POST /api/batches/:id/run`: the engine for scripts, as an NDJSON stream. */
import { Hono } from "hono";
import type { Context } from "hono";
import { stream } from "hono/streaming";
import type { AppDeps, AppEnv } from "../env.ts";
import { countRun, metricsOf } from "../../lib/metrics.ts";
import type { Result } from "../../core/result.ts";
import { parseRunMode } from "../../core/status.ts";
import { claimRun, runClaimed } from "../../engine/start_run.ts";
import { readJsonObject } from "../request_input.ts";
import { apiProblem, withOwnBatch } from "../problem.ts";
import { batchJson, jobJson } from "./json.ts";
import { readApiKey } from "./key_header.ts";

/**
 * The raw new budget cap, if any: `budgetUsd` in a JSON body, else in the
 * query (claimRun reads and checks it).
 */
async function readRawBudget(c: Context<AppEnv>): Promise<Result<unknown>> {
  const isJson = c.req.header("content-type")?.toLowerCase().startsWith(
    "application/json",
  );
  if (!isJson) return { ok: true, value: c.req.query("budgetUsd") };
  const body = await readJsonObject(c, { allowEmpty: true });
  if (!body.ok) return body;
  return {
    ok: true,
    value: body.value && "budgetUsd" in body.value
      ? body.value.budgetUsd
      : c.req.query("budgetUsd"),
  };
}

/** The API run route. */
export function apiRunRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.post(
    "/batches/:id/run",
    withOwnBatch(deps, async (c, batch) => {
      const key = readApiKey(c);
      if (!key.ok) return apiProblem(c, key.problem);
      const budget = await readRawBudget(c);
      if (!budget.ok) return apiProblem(c, budget.problem);
      const claimed = await claimRun(deps, batch, budget.value);
      if (!claimed.ok) return apiProblem(c, claimed.problem);
      const claim = claimed.value;
      const now = c.req.query("now") === "1";
      c.header("Content-Type", "application/x-ndjson");
      c.header("Cache-Control", "no-store");
      return stream(c, async (out) => {
        out.onAbort(() => claim.controller.abort("disconnected"));
        const line = (value: unknown) =>
          out.write(JSON.stringify(value) + "\n");
        const final = await runClaimed(deps, claim, {
          apiKey: key.value,
          mode: parseRunMode(c.req.query("mode")),
          // Batch mode: `?now=1` runs the items now at the standard price.
          now: c.req.query("now") === "1",
          onUpdate: countRun(metricsOf(deps), async ({ event }) => {
            if (event.type === "finished" || out.aborted) return;
            await line(
              event.type === "submitted"
                ? {
                  type: "submitted",
                  jobs: event.jobs.map(jobJson),
                  // Why not everything was submitted (a refused key…).
                  ...(event.problem ? { problem: event.problem } : {}),
                }
                : event,
            );
          }),
          onFailure: async () => {
            if (out.aborted) return;
            await line({
              type: "error",
              error: {
                code: "internal",
                message:
                  "The run stopped because of an internal error; resume it later.",
              },
            });
          },
        });
        // Batch mode ends at `submitted`: the results come by sync.
        if (final && !out.aborted && (final.mode !== "batch" || now)) {
          await line({ type: "batch", batch: batchJson(final) });
        }
      });
    }),
  );
  return app;
}
