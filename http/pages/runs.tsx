/**
 * Running a batch from the page: the run element posts the key once and gets
 * a `text/event-stream` of `<hx-partial>` updates (htmx 4 `hx-sse`).
 */
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { AppDeps, AppEnv } from "../env.ts";
import { getBatch } from "../../db/batch_queries.ts";
import { parseApiKey } from "../../core/api_key.ts";
import { parseBudgetChange } from "../../core/budget.ts";
import type { RunUpdate } from "../../engine/run_batch.ts";
import { claimRun, parseRunMode, runClaimed } from "../../engine/start_run.ts";
import { keyTransportProblem } from "../middleware/transport.ts";
import { BatchSummary } from "../../views/components/batch_summary.tsx";
import {
  RunFinished,
  RunRefused,
  RunStarter,
  RunStatus,
} from "../../views/components/run_starter.tsx";
import { Tile } from "../../views/components/tile.tsx";

/** Routes that start, stream and cancel runs. */
export function runRoutes(deps: AppDeps) {
  const { db, config, activeRuns } = deps;
  const app = new Hono<AppEnv>();

  app.get("/batches/:id/runner", async (c) => {
    const batch = await getBatch(db, c.get("workspaceId"), c.req.param("id"));
    if (!batch) {
      return c.html(<p class="run run-refused">No such batch.</p>, 404);
    }
    // A new budget cap typed next to Resume travels on in the run's URL.
    const budget = c.req.query("budgetUsd");
    const change = parseBudgetChange(budget);
    if (!change.ok) {
      return c.html(
        <RunRefused
          batchId={batch.id}
          message={`${change.message} Correct it and press Resume again.`}
        />,
        400,
      );
    }
    return c.html(
      <>
        <RunStarter
          batch={batch}
          mode={parseRunMode(c.req.query("mode"))}
          budgetUsd={budget}
        />
        {/* Started: the "Start it?" question, if shown, is answered. */}
        <hx-partial hx-target={`#confirm-${batch.id}`} hx-swap="delete">
        </hx-partial>
      </>,
    );
  });

  app.post("/batches/:id/run", async (c) => {
    const batchId = c.req.param("id");
    const batch = await getBatch(db, c.get("workspaceId"), batchId);
    // A refused run also puts the batch summary back to its idle state, so
    // the page offers Run/Resume again instead of a Cancel for nothing.
    const refuse = (message: string, status: 400 | 403 | 404 | 409 | 422) =>
      c.html(
        <>
          <RunRefused batchId={batchId} message={message} />
          {batch && status !== 409 && (
            <hx-partial hx-target={`#summary-${batch.id}`} hx-swap="outerHTML">
              <BatchSummary batch={batch} running={false} />
            </hx-partial>
          )}
        </>,
        status,
      );
    if (!batch) return refuse("There is no such batch in this workspace.", 404);
    const transport = keyTransportProblem(c, config.trustProxy);
    if (transport) return refuse(transport, 403);
    const body = await c.req.parseBody();
    const key = parseApiKey(body.apiKey);
    if (!key.ok) {
      return refuse(`${key.message} Then press Resume on the batch page.`, 400);
    }
    // An optional new budget cap: the form field, else `?budgetUsd=`.
    const claimed = await claimRun(
      deps,
      batch,
      body.budgetUsd ?? c.req.query("budgetUsd"),
    );
    if (!claimed.ok) {
      const hint = claimed.code === "invalid_budget"
        ? " Correct it and press Resume again."
        : "";
      return refuse(claimed.message + hint, claimed.status);
    }
    c.header("Cache-Control", "no-store");
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => claimed.claim.controller.abort("disconnected"));
      await runClaimed(deps, claimed.claim, {
        apiKey: key.key,
        mode: parseRunMode(c.req.query("mode")),
        onUpdate: async (update) => {
          if (!stream.aborted) {
            await stream.writeSSE({ data: renderUpdate(update) });
          }
        },
        onFailure: async () => {
          if (stream.aborted) return;
          await stream.writeSSE({
            data: String(
              <hx-partial hx-target={`#run-${batchId}`} hx-swap="outerHTML">
                <RunRefused
                  batchId={batchId}
                  message="The run stopped because of an internal error; see the server log. Paste your key and Resume."
                />
              </hx-partial>,
            ),
          });
        },
      });
    });
  });

  app.post("/batches/:id/cancel", async (c) => {
    const batch = await getBatch(db, c.get("workspaceId"), c.req.param("id"));
    if (!batch) return c.html(<p role="alert">No such batch.</p>, 404);
    activeRuns.cancel(batch.id);
    return c.html(
      <BatchSummary
        batch={{ ...batch, statusMessage: "Cancelling…" }}
        running={false}
      />,
    );
  });

  return app;
}

/** The partials one update changes on whatever page is shown. */
export function renderUpdate(
  { event, batch, item, image, stoppedItems = [] }: RunUpdate,
): string {
  const finished = event.type === "finished";
  const message = event.type === "rate-limited"
    ? `Google asked to slow down; retrying in ${
      Math.ceil(event.retryAfterMs / 1000)
    } s`
    : undefined;
  return String(
    <>
      {[...(item ? [item] : []), ...stoppedItems].map((tile) => (
        <hx-partial hx-target={`#tile-${tile.id}`} hx-swap="outerHTML">
          <Tile
            item={tile}
            image={tile === item ? image : undefined}
            batchId={batch.id}
          />
        </hx-partial>
      ))}
      <hx-partial hx-target={`#summary-${batch.id}`} hx-swap="outerHTML">
        <BatchSummary batch={batch} running={!finished} />
      </hx-partial>
      {finished
        ? (
          <hx-partial hx-target={`#run-${batch.id}`} hx-swap="outerHTML">
            <RunFinished batch={batch} />
          </hx-partial>
        )
        : (
          <hx-partial hx-target={`#run-status-${batch.id}`} hx-swap="outerHTML">
            <RunStatus batch={batch} message={message} />
          </hx-partial>
        )}
    </>,
  );
}
