/**
 * The element that owns a run's stream. It lives in the layout's activity
 * region, so moving between pages does not interrupt the run; it posts the
 * key from the header field once, on load (K2: nothing else keeps the key).
 */
import type { Batch } from "../../core/records.ts";
import type { RunMode } from "../../core/status.ts";
import { KEY_FIELD_ID } from "./key_status.tsx";
import { batchStatusText } from "./status_badge.tsx";
import { ACTIVITY_ID } from "../layout.tsx";

/** Id of a batch's run element in the activity region. */
export function runId(batchId: string): string {
  return `run-${batchId}`;
}

/**
 * Id of a batch's ended run line (finished or refused). Apart from the run
 * element's id, so that starting again removes the old line, whatever order
 * the swaps land in, and the activity region keeps one line per batch.
 */
export function runEndedId(batchId: string): string {
  return `run-ended-${batchId}`;
}

/** Id of the progress line inside a run element. */
export function runStatusId(batchId: string): string {
  return `run-status-${batchId}`;
}

/** Id of a batch's budget field (sent along with Run, Resume, Retry). */
export function budgetFieldId(batchId: string): string {
  return `budget-${batchId}`;
}
import { costText } from "./cost_figure.tsx";
import { costLabel } from "../../core/cost.ts";

/**
 * Starts the run as soon as it is inserted. `budgetUsd` (the text of the
 * batch's budget field, "" for no cap) becomes the run's new cap.
 */
export function RunStarter(
  { batch, mode, budgetUsd, now = false }: {
    batch: Batch;
    mode: RunMode;
    budgetUsd?: string;
    /** Batch mode: run these now, at the standard price, not as a job. */
    now?: boolean;
  },
) {
  const query = new URLSearchParams({ mode });
  if (now) query.set("now", "1");
  if (budgetUsd !== undefined) query.set("budgetUsd", budgetUsd.trim());
  return (
    <div
      id={runId(batch.id)}
      class="run"
      hx-post={`/batches/${batch.id}/run?${query}`}
      hx-trigger="load"
      hx-include={`#${KEY_FIELD_ID}`}
      hx-swap="outerHTML"
      data-batch={batch.id}
    >
      <span id={runStatusId(batch.id)} class="run-status">
        Starting “{batch.title}”…
      </span>
    </div>
  );
}

/** Shown in the activity region while a run streams. */
export function RunStatus(
  { batch, message }: { batch: Batch; message?: string },
) {
  const done = batch.succeededCount + batch.failedCount;
  return (
    <span id={runStatusId(batch.id)} class="run-status">
      <a href={`/batches/${batch.id}`}>{batch.title}</a>: {done} of{" "}
      {batch.itemCount} images
      <RunCost batch={batch} />
      {message && ` · ${message}`}
    </span>
  );
}

/** Replaces the run element when its stream ends; it can be dismissed. */
export function RunFinished({ batch }: { batch: Batch }) {
  return (
    <div
      id={runEndedId(batch.id)}
      class={`run run-finished run-${batch.status}`}
      data-batch={batch.id}
    >
      <a href={`/batches/${batch.id}`}>{batch.title}</a>:{" "}
      {batchStatusText(batch.status)} — {batch.succeededCount} of{" "}
      {batch.itemCount} images saved
      <RunCost batch={batch} />
      {batch.statusMessage && (
        <span class="run-message">{batch.statusMessage}</span>
      )}
      <DismissButton />
    </div>
  );
}

/** A run that could not start (bad key, transport, already running…). */
export function RunRefused(
  { batchId, message }: { batchId: string; message: string },
) {
  return (
    <div
      id={runEndedId(batchId)}
      class="run run-refused"
      role="alert"
      data-batch={batchId}
    >
      <span>{message}</span>
      <DismissButton />
    </div>
  );
}

/** Closes an ended run line (a request that answers nothing, then delete). */
function DismissButton() {
  return (
    <button
      type="button"
      class="run-dismiss"
      aria-label="Dismiss"
      title="Dismiss"
      hx-get="/activity/dismiss"
      hx-target="closest .run"
      hx-swap="delete"
    >
      ×
    </button>
  );
}

/** The running figure in the activity region; the label is its tooltip (K9). */
function RunCost({ batch }: { batch: Batch }) {
  return (
    <span class="run-cost" title={costLabel(batch.priceListDate)}>
      {" · Google usage "}
      {costText(batch, { running: batch.status === "running" })}
    </span>
  );
}

/**
 * A button that puts a run element for the batch into the activity region
 * (with the budget field next to it, if shown); the element then posts the key.
 */
export function RunButton(
  { batchId, mode, label, primary = false, now = false }: {
    batchId: string;
    mode: RunMode;
    label: string;
    primary?: boolean;
    /** Batch mode: run now at the standard price instead of a new job. */
    now?: boolean;
  },
) {
  return (
    <button
      type="button"
      class={`button ${primary ? "primary" : "secondary"}`}
      hx-get={`/batches/${batchId}/runner?mode=${mode}${now ? "&now=1" : ""}`}
      hx-include={`#${budgetFieldId(batchId)}`}
      hx-target={`#${ACTIVITY_ID}`}
      hx-swap="beforeend"
    >
      {label}
    </button>
  );
}
