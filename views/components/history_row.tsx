/**
 * One batch in History: a table row on wide screens, a card below 860 px.
 * While the batch runs, the row polls its own fragment (`historyRowPath`)
 * and replaces itself; the row re-rendered after the run has no trigger, so
 * the polling stops by itself.
 */
import { pollSelf } from "../partial.tsx";
import type { Batch, Image } from "../../core/records.ts";
import { findModel } from "../../core/catalog.ts";
import { costLabel, formatUsd } from "../../core/cost.ts";
import { spentText } from "./cost_figure.tsx";
import { BatchStatusBadge } from "./status_badge.tsx";

/** Id of a batch's History row (replaced by its own poll while it runs). */
export function historyRowId(batchId: string): string {
  return `history-${batchId}`;
}

/** Where a row fetches its fresh self. */
export function historyRowPath(batchId: string): string {
  return `/history/rows/${batchId}`;
}

/** How often a running batch's row asks for its fresh self. */
export const HISTORY_POLL_EVERY = "3s";

/** "2026-11-27 10:04" (UTC), as History has always shown it. */
function shortTime(at: Date): string {
  return at.toISOString().slice(0, 16).replace("T", " ");
}

export interface HistoryRowProps {
  batch: Batch;
  /** The batch's first saved image, if any. */
  thumbnail?: Image;
  /** The batch runs now: the row keeps itself up to date. */
  live: boolean;
}

/**
 * A batch: thumbnail, title, status, images, model, cost, date. The
 * thumbnail follows the title in the source, so the first cell's text is
 * the title, and is drawn before it.
 */
export function HistoryRow({ batch: b, thumbnail, live }: HistoryRowProps) {
  const href = `/batches/${b.id}`;
  const poll = live ? pollSelf(historyRowPath(b.id), HISTORY_POLL_EVERY) : {};
  return (
    <tr
      id={historyRowId(b.id)}
      class="history-row"
      data-status={b.status}
      {...poll}
    >
      <td class="history-title">
        <div class="history-batch">
          <a href={href}>{b.title}</a>
          {thumbnail
            ? (
              // The title link names the batch; this one is a bigger target
              // for the pointer, skipped by the keyboard and screen readers.
              <a
                href={href}
                class="history-thumb"
                tabindex={-1}
                aria-hidden="true"
              >
                <img
                  src={`/images/${b.id}/${thumbnail.fileName}`}
                  alt=""
                  loading="lazy"
                  width={thumbnail.width ?? undefined}
                  height={thumbnail.height ?? undefined}
                />
              </a>
            )
            : (
              <span class="history-thumb history-nothumb" aria-hidden="true">
              </span>
            )}
        </div>
      </td>
      <td class="history-status">
        <BatchStatusBadge status={b.status} />
      </td>
      <td class="history-count" data-label="Images">
        {b.succeededCount}/{b.itemCount}
        {b.failedCount > 0 && ` (${b.failedCount} failed)`}
      </td>
      <td class="history-model">{findModel(b.model)?.label ?? b.model}</td>
      <td class="history-cost" title={costLabel(b.priceListDate)}>
        {spentText(b)}{" "}
        <small>
          of est. {formatUsd(b.estimatedCostUsd)}
          {b.budgetUsd !== null && ` · cap ${formatUsd(b.budgetUsd)}`}
        </small>
      </td>
      <td class="history-date" data-label="Created">
        <time datetime={b.createdAt.toISOString()}>
          {shortTime(b.createdAt)}
        </time>
      </td>
    </tr>
  );
}
