/**
 * What one run update changes on whatever page is shown, as `<hx-partial>`
 * swaps by id: the item's tile, the batch's summary, and the run line in the
 * activity region. Elements not on screen are simply not updated.
 */
import type { Batch, GoogleJob, Image, Item } from "../../core/records.ts";
import type { GeneratorEvent } from "../../core/protocol.ts";
import { Replace } from "../partial.tsx";
import { BatchSummary, summaryId } from "../components/batch_summary.tsx";
import {
  RunFinished,
  runId,
  RunRefused,
  RunStatus,
  runStatusId,
} from "../components/run_starter.tsx";
import { Tile, tileId } from "../components/tile.tsx";

/** One update of a run (the engine's `RunUpdate`). */
export interface RunUpdateProps {
  event:
    | GeneratorEvent
    | { type: "finished" }
    | { type: "submitted"; jobs: readonly GoogleJob[]; problem?: string };
  batch: Batch;
  item?: Item;
  image?: Image;
  /** With "finished": the items the run's end left interrupted or cancelled. */
  stoppedItems?: Item[];
}

/** The partials of one update. */
export function RunUpdate(
  { event, batch, item, image, stoppedItems = [] }: RunUpdateProps,
) {
  const finished = event.type === "finished";
  const message = event.type === "rate-limited"
    ? `Google asked to slow down; retrying in ${
      Math.ceil(event.retryAfterMs / 1000)
    } s`
    : undefined;
  return (
    <>
      {[...(item ? [item] : []), ...stoppedItems].map((tile) => (
        <Replace id={tileId(tile.id)}>
          <Tile
            item={tile}
            image={tile === item ? image : undefined}
            batchId={batch.id}
          />
        </Replace>
      ))}
      <Replace id={summaryId(batch.id)}>
        <BatchSummary
          batch={batch}
          running={!finished && event.type !== "submitted"}
        />
      </Replace>
      {finished
        ? (
          <Replace id={runId(batch.id)}>
            <RunFinished batch={batch} />
          </Replace>
        )
        : (
          <Replace id={runStatusId(batch.id)}>
            <RunStatus batch={batch} message={message} />
          </Replace>
        )}
    </>
  );
}

/** A run that stopped on a server fault, in place of its run element. */
export function RunFailed({ batchId }: { batchId: string }) {
  return (
    <Replace id={runId(batchId)}>
      <RunRefused
        batchId={batchId}
        message="The run stopped because of an internal error; see the server log. Paste your key and Resume."
      />
    </Replace>
  );
}

/**
 * A run that could not start; the summary goes back to its idle state (when
 * `batch` is given), so the page offers Run/Resume again, not a Cancel for
 * nothing.
 */
export function RunNotStarted(
  { batchId, batch, message }: {
    batchId: string;
    batch?: Batch;
    message: string;
  },
) {
  return (
    <>
      <RunRefused batchId={batchId} message={message} />
      {batch && (
        <Replace id={summaryId(batch.id)}>
          <BatchSummary batch={batch} running={false} />
        </Replace>
      )}
    </>
  );
}
