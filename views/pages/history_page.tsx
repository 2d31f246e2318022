/** History: the workspace's batches, newest first, searchable. */
import type { Batch } from "../../core/records.ts";
import { findModel } from "../../core/catalog.ts";
import { COST_LABEL, costLabel, formatUsd } from "../../core/cost.ts";
import { spentText } from "../components/cost_figure.tsx";
import { BatchStatusBadge } from "../components/status_badge.tsx";

export interface HistoryPageProps {
  batches: Batch[];
  query: string;
  nextCursor: string | null;
  workspaceToken: string;
  /** A one-line message above the list (e.g. after a delete). */
  notice?: string;
}

/** A table of batches with status, counts, model and cost. */
export function HistoryPage(
  { batches, query, nextCursor, workspaceToken, notice }: HistoryPageProps,
) {
  const more = nextCursor &&
    `/history?${new URLSearchParams({
      cursor: nextCursor,
      ...(query ? { q: query } : {}),
    })}`;
  return (
    <section class="panel">
      <h1>History</h1>
      {notice && <p class="flash" role="status">{notice}</p>}
      <form class="search" action="/history" method="get" role="search">
        <input
          type="search"
          name="q"
          value={query}
          placeholder="Search prompts and titles"
          aria-label="Search"
        />
        <button type="submit" class="button secondary">Search</button>
      </form>
      {batches.length === 0
        ? (
          <p class="empty">
            {query
              ? "No batch matches that search."
              : "No batches yet. Start one on the New batch page."}
          </p>
        )
        : (
          <div class="table-wrap">
            <table class="history">
              <thead>
                <tr>
                  <th>Batch</th>
                  <th>Status</th>
                  <th>Images</th>
                  <th>Model</th>
                  <th title="Estimated Google usage, not a BatchGen charge">
                    Est. cost
                  </th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                {batches.map((b) => (
                  <tr id={`history-${b.id}`}>
                    <td>
                      <a href={`/batches/${b.id}`}>{b.title}</a>
                    </td>
                    <td>
                      <BatchStatusBadge status={b.status} />
                    </td>
                    <td>
                      {b.succeededCount}/{b.itemCount}
                      {b.failedCount > 0 && ` (${b.failedCount} failed)`}
                    </td>
                    <td>{findModel(b.model)?.label ?? b.model}</td>
                    <td title={costLabel(b.priceListDate)}>
                      {spentText(b)}{" "}
                      <small>
                        of est. {formatUsd(b.estimatedCostUsd)}
                        {b.budgetUsd !== null &&
                          ` · cap ${formatUsd(b.budgetUsd)}`}
                      </small>
                    </td>
                    <td>
                      <time datetime={b.createdAt.toISOString()}>
                        {b.createdAt.toISOString().slice(0, 16).replace(
                          "T",
                          " ",
                        )}
                      </time>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p class="hint">{COST_LABEL}. Google bills you directly.</p>
          </div>
        )}
      {more && (
        <p>
          <a class="button secondary" href={more}>Older batches</a>
        </p>
      )}
      <details class="token">
        <summary>Use these batches from scripts</summary>
        <p>
          Send <code>Authorization: Bearer {workspaceToken}</code>{" "}
          with JSON API calls to reach this workspace's batches. This token is
          not your Gemini key; keep it private.
        </p>
      </details>
    </section>
  );
}
