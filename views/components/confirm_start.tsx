/**
 * Asks before starting a new batch whose estimate is above the configured
 * threshold (`BATCHGEN_CONFIRM_ABOVE_USD`, issue #5). Start inserts the run
 * starter into the activity region, as Resume does; the runner's answer
 * removes this block.
 */
import { RunButton } from "./run_starter.tsx";
import { DeleteButton } from "./batch_summary.tsx";
import type { Batch } from "../../core/records.ts";
import { costLabel, formatUsd, PRICE_LIST_DATE } from "../../core/cost.ts";

/** Id of the question (removed once the run starts). */
export function confirmId(batchId: string): string {
  return `confirm-${batchId}`;
}

/** The question and its Start button; the batch stays a draft until then. */
export function ConfirmStart({ batch }: { batch: Batch }) {
  const date = batch.priceListDate ?? PRICE_LIST_DATE;
  return (
    <div
      id={confirmId(batch.id)}
      class="confirm-start notice"
      role="alert"
      title={costLabel(batch.priceListDate)}
    >
      <p>
        {batch.estimatedCostUsd === null
          ? `BatchGen cannot estimate this batch: price unknown for ${batch.model} (prices as of ${date}). Start it?`
          : `This batch is estimated at ${
            formatUsd(batch.estimatedCostUsd)
          } of Google usage. Start it?`}
      </p>
      <div class="actions">
        <RunButton batchId={batch.id} mode="resume" label="Start" primary />
        <DeleteButton
          batchId={batch.id}
          label="Discard"
          question="Discard this batch? Nothing has been generated yet."
          danger={false}
        />
      </div>
    </div>
  );
}
