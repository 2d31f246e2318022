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

/** Id of the progress line inside a run element. */
export function runStatusId(batchId: string): string {
  return `run-status-${batchId}`;
}

/** Id of a batch's budget field (sent along with Run, Resume, Retry). */
export function budgetFieldId(batchId: string): string {
  return `budget-${batchId}`;
}
import { runningCostText } from "./cost_figure.tsx";
import { costLabel, PRICE_LIST_DATE } from "../../core/cost.ts";

/**
 * Starts the run as soon as it is inserted. `budgetUsd` (the text of the
 * batch's budget field, "" for no cap) becomes the run's new cap.
 */
export function RunStarter(
  { batch, mode, budgetUsd }: {
    batch: Batch;
    mode: RunMode;
    budgetUsd?: string;
  },
) {
  const query = new URLSearchParams({ mode });
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

/** Replaces the run element when its stream ends. */
export function RunFinished({ batch }: { batch: Batch }) {
  return (
    <div id={runId(batch.id)} class={`run run-finished run-${batch.status}`}>
      <a href={`/batches/${batch.id}`}>{batch.title}</a>:{" "}
      {batchStatusText(batch.status)} — {batch.succeededCount} of{" "}
      {batch.itemCount} images saved
      <RunCost batch={batch} />
      {batch.statusMessage && (
        <span class="run-message">{batch.statusMessage}</span>
      )}
    </div>
  );
}

/** A run that could not start (bad key, transport, already running…). */
export function RunRefused(
  { batchId, message }: { batchId: string; message: string },
) {
  return (
    <div id={runId(batchId)} class="run run-refused" role="alert">
      {message}
    </div>
  );
}

/** The running figure in the activity region, labelled (K9). */
function RunCost({ batch }: { batch: Batch }) {
  return (
    <span class="run-cost" title={costLabel(batch.priceListDate)}>
      {" · "}
      {runningCostText(batch)} (estimated Google usage, prices as of{" "}
      {batch.priceListDate ?? PRICE_LIST_DATE}, not a BatchGen charge)
    </span>
  );
}

/**
 * A button that puts a run element for the batch into the activity region
 * (with the budget field next to it, if shown); the element then posts the key.
 */
export function RunButton(
  { batchId, mode, label, primary = false }: {
    batchId: string;
    mode: RunMode;
    label: string;
    primary?: boolean;
  },
) {
  return (
    <button
      type="button"
      class={`button ${primary ? "primary" : "secondary"}`}
      hx-get={`/batches/${batchId}/runner?mode=${mode}`}
      hx-include={`#${budgetFieldId(batchId)}`}
      hx-target={`#${ACTIVITY_ID}`}
      hx-swap="beforeend"
    >
      {label}
    </button>
  );
}
