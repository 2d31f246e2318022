/** A batch's status line, progress bar, counts, cost and actions. */
import { budgetFieldId, RunButton } from "./run_starter.tsx";
import { KEY_FIELD_ID } from "./key_status.tsx";
import { MAIN_ID } from "../layout.tsx";
import { BatchStatusBadge } from "./status_badge.tsx";
import { pollSelf } from "../partial.tsx";
import type { Batch } from "../../core/records.ts";
import { costLabel } from "../../core/cost.ts";
import { CostFigure } from "./cost_figure.tsx";

/** Id of a batch's summary (swapped as events arrive). */
export function summaryId(batchId: string): string {
  return `summary-${batchId}`;
}

/** The name of the button that starts the work a batch has left. */
export function startLabel(batch: Batch): string {
  if (batch.mode === "batch") {
    return batch.status === "draft" ? "Submit to Google" : "Submit the rest";
  }
  return batch.status === "draft" ? "Start" : "Resume";
}

export interface BatchSummaryProps {
  batch: Batch;
  /** A run of the batch is in progress. */
  running: boolean;
  /**
   * This page does not own the run's stream (it was opened, or reloaded,
   * during the run): the summary asks for itself every 2 s until the run
   * ends, so it never shows a state that is over.
   */
  watch?: boolean;
  /** The "Start it?" question is shown: its Start is the only start button. */
  confirming?: boolean;
  /**
   * Drawn with the rest of the batch page (or as an answer that must stay
   * as drawn). A summary swapped in on its own that finds the batch at
   * Google (the end of a submission's stream) has the whole batch section
   * drawn afresh once, so the tiles say "At Google" too and the page gets
   * its sync poller.
   */
  inPage?: boolean;
}

/** Swapped by id (`summaryId`) as events arrive. */
export function BatchSummary(
  { batch, running, watch = false, confirming = false, inPage = false }:
    BatchSummaryProps,
) {
  const finished = batch.succeededCount + batch.failedCount;
  const open = batch.itemCount - finished;
  const failed = batch.failedCount - batch.blockedCount;
  // Batch mode: jobs wait at Google; only a sync or a cancel moves them.
  const atGoogle = batch.status === "submitted" && !running;
  const poll = running && watch
    ? pollSelf(`/batches/${batch.id}/summary?watch=1`, "2s")
    : atGoogle && !inPage
    ? redrawSection(batch.id)
    : {};
  return (
    <section
      id={summaryId(batch.id)}
      class="summary"
      data-status={batch.status}
      data-running={running ? "true" : "false"}
      {...poll}
    >
      <p class="summary-status">
        <BatchStatusBadge status={batch.status} />
        {batch.statusMessage && (
          <span class="summary-message">{batch.statusMessage}</span>
        )}
      </p>
      <progress max={batch.itemCount} value={finished} aria-label="Progress">
        {finished} of {batch.itemCount}
      </progress>
      <p class="counts">
        <span data-count="succeeded">{batch.succeededCount} done</span>
        {failed > 0 && <span data-count="failed">{failed} failed</span>}
        {batch.blockedCount > 0 && (
          <span data-count="blocked">
            {batch.blockedCount} blocked by Google
          </span>
        )}
        {open > 0 && <span data-count="open">{open} to do</span>}
        <span>of {batch.itemCount} images</span>
      </p>
      <p class="cost">
        <CostFigure batch={batch} running={running} />
      </p>
      <div class="actions">
        {atGoogle && (
          <button
            type="button"
            class="button danger"
            hx-post={`/batches/${batch.id}/cancel-jobs`}
            hx-include={`#${KEY_FIELD_ID}`}
            // The answer updates the summary (or the whole batch) by id.
            hx-swap="none"
            hx-confirm="Cancel the jobs at Google? Images Google has finished are kept; the rest are not made (Retry can submit them again)."
          >
            Cancel at Google
          </button>
        )}
        {running
          ? (
            <button
              type="button"
              class="button danger"
              hx-post={`/batches/${batch.id}/cancel`}
              hx-target={`#${summaryId(batch.id)}`}
              hx-swap="outerHTML"
            >
              Cancel
            </button>
          )
          : (
            <>
              {(open > 0 || batch.failedCount > 0) && !atGoogle && (
                <BudgetField batch={batch} />
              )}
              {open > 0 && !confirming && !atGoogle && (
                <RunButton
                  batchId={batch.id}
                  mode="resume"
                  label={startLabel(batch)}
                  primary
                />
              )}
              {batch.failedCount > 0 && !atGoogle && (
                <RunButton
                  batchId={batch.id}
                  mode="retry"
                  label={batch.mode === "batch"
                    ? "Retry failed as a new job"
                    : "Retry failed"}
                />
              )}
              {batch.failedCount > 0 && !atGoogle && batch.mode === "batch" && (
                <RunButton
                  batchId={batch.id}
                  mode="retry"
                  now
                  label="Retry failed now (standard price)"
                />
              )}
              <form
                class="inline-form"
                method="post"
                action={`/batches/${batch.id}/rerun`}
              >
                <button type="submit" class="button secondary">
                  Re-run with these settings
                </button>
              </form>
              <a class="button secondary" href={`/?from=${batch.id}`}>
                Edit and re-run
              </a>
              <a
                class="button secondary"
                href={`/batches/${batch.id}/download.zip`}
                hx-boost="false"
                download
              >
                Download ZIP
              </a>
              <a
                class="button secondary"
                href={`/api/batches/${batch.id}/manifest.json`}
                target="_blank"
                rel="noopener"
              >
                Manifest
              </a>
              <DeleteButton
                batchId={batch.id}
                label="Delete"
                question={atGoogle
                  ? "Delete this batch and its images? Its jobs at Google are not cancelled: Google still makes (and bills) them, and nothing collects them. Use Cancel at Google first to stop them."
                  : "Delete this batch and its images?"}
              />
            </>
          )}
      </div>
    </section>
  );
}

/**
 * Attributes that have a summary drawn on its own ask, once, for the whole
 * batch section (`GET /batches/:id/summary` draws it afresh when no run
 * holds the batch, else answers a summary that watches the run).
 */
function redrawSection(batchId: string) {
  return {
    "hx-get": `/batches/${batchId}/summary`,
    "hx-trigger": "load delay:500ms",
    "hx-swap": "outerHTML",
    "hx-status:5xx": "swap:none",
  };
}

/**
 * The batch's budget cap, editable before Run/Resume/Retry: the buttons
 * include it in the runner request, which passes it on to the run (#5).
 * Empty means no cap.
 */
export function BudgetField({ batch }: { batch: Batch }) {
  return (
    <label class="field budget-field">
      <span>Budget cap, USD</span>
      <input
        id={budgetFieldId(batch.id)}
        type="number"
        name="budgetUsd"
        min="0"
        step="0.01"
        inputmode="decimal"
        placeholder="no cap"
        value={batch.budgetUsd === null ? "" : String(batch.budgetUsd)}
        title={`${costLabel(batch.priceListDate)}. Empty: no cap.`}
      />
    </label>
  );
}

/** Deletes the batch (after the browser asks `question`), then shows History. */
export function DeleteButton(
  { batchId, label, question, danger = true }: {
    batchId: string;
    label: string;
    question: string;
    danger?: boolean;
  },
) {
  return (
    <button
      type="button"
      class={`button ${danger ? "danger" : "secondary"}`}
      hx-delete={`/batches/${batchId}`}
      hx-confirm={question}
      hx-target={`#${MAIN_ID}`}
    >
      {label}
    </button>
  );
}
