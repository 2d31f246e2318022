/** History: the workspace's batches, newest first, searchable. */
import type { Batch, Image } from "../../core/records.ts";
import { HistoryRow } from "../components/history_row.tsx";

export interface HistoryPageProps {
  batches: Batch[];
  /** Each batch's first saved image, by batch id (none: a placeholder). */
  thumbnails?: ReadonlyMap<string, Image>;
  /** Ids of the batches running now: their rows keep themselves up to date. */
  live?: ReadonlySet<string>;
  query: string;
  nextCursor: string | null;
  workspaceToken: string;
  /** A one-line message above the list (e.g. after a delete). */
  notice?: string;
}

/** A table of batches (cards on a phone) with status, counts, model and cost. */
export function HistoryPage(
  {
    batches,
    thumbnails = new Map(),
    live = new Set(),
    query,
    nextCursor,
    workspaceToken,
    notice,
  }: HistoryPageProps,
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
                  <HistoryRow
                    batch={b}
                    thumbnail={thumbnails.get(b.id)}
                    live={live.has(b.id)}
                  />
                ))}
              </tbody>
            </table>
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
