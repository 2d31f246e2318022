/**
 * A batch at Google (Batch mode): while the page is open, this element asks
 * the server to check the jobs with the key in the field (`hx-include`),
 * every `everySeconds`, one request at a time; each answer draws the batch
 * afresh, with the next interval (longer while nothing changes). Without a
 * key the server says so and nothing reaches Google.
 */
import { KEY_FIELD_ID } from "./key_status.tsx";

/** Id of a batch's sync element. */
export function syncId(batchId: string): string {
  return `sync-${batchId}`;
}

export interface SyncPollerProps {
  batchId: string;
  everySeconds: number;
  /** What the last check said (or why it could not check). */
  message?: string;
}

/** The poller and its "Check now" button. */
export function SyncPoller(
  { batchId, everySeconds, message }: SyncPollerProps,
) {
  const path = `/batches/${batchId}/sync?every=${everySeconds}`;
  return (
    <div
      id={syncId(batchId)}
      class="sync-poller"
      hx-post={path}
      hx-trigger={`every ${everySeconds}s`}
      hx-include={`#${KEY_FIELD_ID}`}
      hx-swap="none"
      {...{ "hx-status:5xx": "swap:none" }}
    >
      <p class="hint" role="status">
        {message ??
          `With your key in the field above, this page checks on the jobs every ${everySeconds} s and saves what Google has finished. You may also close the tab and come back.`}
      </p>
      <button
        type="button"
        class="button secondary"
        hx-post={path.replace(/\?every=\d+/, "?every=0")}
        hx-include={`#${KEY_FIELD_ID}`}
        hx-swap="none"
      >
        Check now
      </button>
    </div>
  );
}
