/** `POST /api/batches/:id/run`: the engine for scripts, as an NDJSON stream. */
import { Hono } from "hono";
import type { Context } from "hono";
import { stream } from "hono/streaming";
import type { AppDeps, AppEnv } from "../env.ts";
import { type KeyResult, parseApiKey } from "../../core/api_key.ts";
import { batchJson } from "./json.ts";
import { readJsonBody } from "../request_input.ts";
import { claimRun, parseRunMode, runClaimed } from "../../engine/start_run.ts";
import { keyTransportProblem } from "../middleware/transport.ts";
import { apiError, withOwnBatch } from "../problem.ts";

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

/**
 * The raw new budget cap, if any: `budgetUsd` in a JSON body, else in the
 * query (claimRun reads and checks it).
 */
async function readRawBudget(c: Context<AppEnv>): Promise<Checked<unknown>> {
  const isJson = c.req.header("content-type")?.toLowerCase().startsWith(
    "application/json",
  );
  if (!isJson) return { ok: true, value: c.req.query("budgetUsd") };
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
    return { ok: false, response: apiError(c, 400, "malformed_json", message) };
  }
  return {
    ok: true,
    value: body && "budgetUsd" in body
      ? body.budgetUsd
      : c.req.query("budgetUsd"),
  };
}

/** The API run route. */
export function apiRunRoutes(deps: AppDeps) {
  const { config } = deps;
  const app = new Hono<AppEnv>();

  app.post(
    "/batches/:id/run",
    withOwnBatch(deps, async (c, batch) => {
      const key = readApiKey(c, config.trustProxy);
      if (!key.ok) return key.response;
      const budget = await readRawBudget(c);
      if (!budget.ok) return budget.response;
      const claimed = await claimRun(deps, batch, budget.value);
      if (!claimed.ok) {
        return apiError(c, claimed.status, claimed.code, claimed.message);
      }
      c.header("Content-Type", "application/x-ndjson");
      c.header("Cache-Control", "no-store");
      return stream(c, async (out) => {
        out.onAbort(() => claimed.claim.controller.abort("disconnected"));
        const line = (value: unknown) =>
          out.write(JSON.stringify(value) + "\n");
        const final = await runClaimed(deps, claimed.claim, {
          apiKey: key.value,
          mode: parseRunMode(c.req.query("mode")),
          onUpdate: async ({ event }) => {
            if (event.type !== "finished" && !out.aborted) await line(event);
          },
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
        if (final && !out.aborted) {
          await line({ type: "batch", batch: batchJson(final) });
        }
      });
    }),
  );
  return app;
}
