/**
 * Running a batch from the page: the run element posts the key once and gets
 * a `text/event-stream` of `<hx-partial>` updates (htmx 4 `hx-sse`).
 */
import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { AppDeps, AppEnv } from "../env.ts";
import { countRun, metricsOf } from "../../lib/metrics.ts";
import { getBatch } from "../../db/batch_queries.ts";
import { parseBudgetChange } from "../../core/budget.ts";
import type { Problem } from "../../core/result.ts";
import { parseRunMode, type RunMode } from "../../core/status.ts";
import type { Batch } from "../../core/records.ts";
import { claimRun, runClaimed } from "../../engine/start_run.ts";
import { cancelElsewhere } from "../../engine/leases.ts";
import {
  BatchSummary,
  startLabel,
} from "../../views/components/batch_summary.tsx";
import { confirmId } from "../../views/components/confirm_start.tsx";
import {
  runEndedId,
  RunRefused,
  RunStarter,
} from "../../views/components/run_starter.tsx";
import {
  RunFailed,
  RunNotStarted,
  RunUpdate,
} from "../../views/fragments/run_update.tsx";
import { Remove } from "../../views/partial.tsx";
import { statusOf } from "../problem.ts";
import { readKeyField } from "./key_field.ts";

/** How often a run stream proves its page is still there. */
const HEARTBEAT_MS = 2_000;

/** The button that starts this run, as the batch page names it. */
function actionName(batch: Batch | undefined, mode: RunMode): string {
  if (mode === "retry") return "Retry failed";
  return batch ? startLabel(batch) : "Start";
}

/** What to do after a refusal the user can fix from the batch page. */
function again(code: Problem["code"], action: string): string {
  if (code === "missing_key") return ` Then press ${action} again.`;
  if (code === "invalid_budget") {
    return ` Correct it and press ${action} again.`;
  }
  return "";
}

/** Routes that start, stream and cancel runs. */
export function runRoutes(deps: AppDeps) {
  const { db, activeRuns } = deps;
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
          message={change.problem.message +
            again(
              "invalid_budget",
              actionName(batch, parseRunMode(c.req.query("mode"))),
            )}
        />,
        statusOf(change.problem.code),
      );
    }
    return c.html(
      <>
        <RunStarter
          batch={batch}
          mode={parseRunMode(c.req.query("mode"))}
          budgetUsd={budget}
          now={c.req.query("now") === "1"}
        />
        {
          /* Started: the "Start it?" question, if shown, is answered, and
            the batch's last ended run line gives way to this one. */
        }
        <Remove id={confirmId(batch.id)} />
        <Remove id={runEndedId(batch.id)} />
      </>,
    );
  });

  app.post("/batches/:id/run", async (c) => {
    const batchId = c.req.param("id");
    const batch = await getBatch(db, c.get("workspaceId"), batchId);
    const refuse = (problem: Problem) =>
      c.html(
        <RunNotStarted
          batchId={batchId}
          // Already running: the summary of that run stays as it is.
          batch={problem.code === "already_running" ||
              problem.code === "too_many_running"
            ? undefined
            : batch}
          message={problem.message +
            again(
              problem.code,
              actionName(batch, parseRunMode(c.req.query("mode"))),
            )}
        />,
        statusOf(problem.code),
      );
    if (!batch) {
      return refuse({
        code: "not_found",
        message: "There is no such batch in this workspace.",
      });
    }
    const read = await readKeyField(c);
    if (!read.ok) return refuse(read.problem);
    const { key, form } = read.value;
    // An optional new budget cap: the form field, else `?budgetUsd=`.
    const claimed = await claimRun(
      deps,
      batch,
      form.budgetUsd ?? c.req.query("budgetUsd"),
    );
    if (!claimed.ok) return refuse(claimed.problem);
    const claim = claimed.value;
    c.header("Cache-Control", "no-store");
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => claim.controller.abort("disconnected"));
      // A comment line every few seconds: a closed tab is noticed on the
      // next write, so the run (and the key, K6) ends within seconds even
      // while Google takes a minute over one image.
      const heartbeat = setInterval(() => {
        if (!stream.aborted) stream.write(": alive\n\n").catch(() => {});
      }, HEARTBEAT_MS);
      try {
        await runClaimed(deps, claim, {
          apiKey: key,
          mode: parseRunMode(c.req.query("mode")),
          now: c.req.query("now") === "1",
          onUpdate: countRun(metricsOf(deps), async (update) => {
            if (!stream.aborted) {
              await stream.writeSSE({
                data: String(<RunUpdate {...update} />),
              });
            }
          }),
          onFailure: async () => {
            if (stream.aborted) return;
            await stream.writeSSE({
              data: String(<RunFailed batchId={batchId} />),
            });
          },
        });
      } finally {
        clearInterval(heartbeat);
      }
    });
  });

  // Dismissing an ended run line: the button deletes its line itself.
  app.get("/activity/dismiss", (c) => c.body(null, 200));

  app.post("/batches/:id/cancel", async (c) => {
    const batch = await getBatch(db, c.get("workspaceId"), c.req.param("id"));
    if (!batch) return c.html(<p role="alert">No such batch.</p>, 404);
    // Run on another instance: it stops at its next heartbeat.
    if (!activeRuns.cancel(batch.id)) await cancelElsewhere(db, batch.id);
    return c.html(
      <BatchSummary
        batch={{ ...batch, statusMessage: "Cancelling…" }}
        running={false}
      />,
    );
  });

  return app;
}
