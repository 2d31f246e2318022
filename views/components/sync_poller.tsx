/**
 * A batch at Google (Batch mode): while the page is open, this element asks
 * the server to check the jobs with the key in the field (`hx-include`),
 * every `everySeconds`, one request at a time, and also as soon as a key is
 * pasted into the field; each answer draws the batch afresh, with the next
 * interval (longer while nothing changes). Without a key the server says so
 * and nothing reaches Google.
 */
import { KEY_FIELD_ID } from "./key_status.tsx";

/** Id of a batch's sync element. */
export function syncId(batchId: string): string {
  return `sync-${batchId}`;
}

/** How long after the last keystroke in the key field a check starts. */
const AFTER_PASTE = "1s";

export interface SyncPollerProps {
  batchId: string;
  everySeconds: number;
  /** What the last check said (or why it could not check). */
  message?: string;
  /**
   * Check once as soon as the element is shown (a page drawn by a visit, a
   * reload or the end of a submission), so an empty key field is pointed
   * out at once. Never on an answer to a check, which would loop.
   */
  checkOnLoad?: boolean;
  /** The last check found no key in the field: the message asks for it. */
  needsKey?: boolean;
}

/** The poller, its message and its "Check now" button. */
export function SyncPoller(
  { batchId, everySeconds, message, checkOnLoad = false, needsKey = false }:
    SyncPollerProps,
) {
  const path = `/batches/${batchId}/sync?every=${everySeconds}`;
  const triggers = [
    ...(checkOnLoad ? ["load"] : []),
    `every ${everySeconds}s`,
    `input changed delay:${AFTER_PASTE} from:#${KEY_FIELD_ID}`,
  ];
  return (
    <div
      id={syncId(batchId)}
      class={`sync-poller${needsKey ? " sync-needs-key" : ""}`}
      hx-post={path}
      hx-trigger={triggers.join(", ")}
      hx-include={`#${KEY_FIELD_ID}`}
      hx-swap="none"
      {...{ "hx-status:5xx": "swap:none" }}
    >
      <p class="sync-message" role="status">
        {message ??
          `Waiting at Google. With your key in the field above, this page checks on the jobs every ${everySeconds} s and saves the images Google has finished; you may also close the tab and come back later.`}
      </p>
      <button
        type="button"
        class="button secondary"
        hx-post={`/batches/${batchId}/sync?every=0`}
        hx-include={`#${KEY_FIELD_ID}`}
        hx-swap="none"
        // On the poller's queue: a click during a check waits for it,
        // rather than racing it for the batch.
        hx-sync="closest .sync-poller"
      >
        Check now
      </button>
    </div>
  );
}
