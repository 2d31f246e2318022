/**
 * A batch's cost figure: what it has used (so far, while work remains), of
 * what it was estimated at, and its cap. Each figure carries the K9 label
 * (estimate, not a BatchGen charge, price-list date) as its tooltip; the page
 * says it once in words (the layout's footer), not next to every figure.
 * A model without a price shows "price unknown", never "$0.00".
 */
import type { Batch } from "../../core/records.ts";
import { costLabel, formatUsd, knownPrice } from "../../core/cost.ts";

/** The used amount; "price unknown" (never "$0.00") without a price. */
export function spentText(batch: Batch): string {
  return knownPrice(batch.model)
    ? formatUsd(batch.actualCostUsd)
    : "price unknown";
}

/** Whether images of the batch remain to be made (or are being made). */
function workRemains(batch: Batch, running: boolean): boolean {
  return running ||
    batch.succeededCount + batch.failedCount < batch.itemCount;
}

/**
 * "$0.27 so far of estimated $0.81 · cap $0.50" while work remains;
 * "$0.79 of estimated $0.81" once every image is done or failed.
 */
export function costText(batch: Batch, { running = false } = {}): string {
  const cap = batch.budgetUsd === null
    ? ""
    : ` · cap ${formatUsd(batch.budgetUsd)}`;
  if (!knownPrice(batch.model)) return `price unknown for this model${cap}`;
  const soFar = workRemains(batch, running) ? " so far" : "";
  return `${spentText(batch)}${soFar} of estimated ${
    formatUsd(batch.estimatedCostUsd)
  }${cap}`;
}

/** The figure for the summary: "Estimated Google usage: …". */
export function CostFigure(
  { batch, running = false }: { batch: Batch; running?: boolean },
) {
  const priced = knownPrice(batch.model);
  return (
    <span
      class="cost-figure"
      title={costLabel(batch.priceListDate)}
      data-cost={priced ? batch.actualCostUsd : ""}
    >
      Estimated Google usage: {priced
        ? (
          <>
            <strong class="cost-spent">{spentText(batch)}</strong>
            {workRemains(batch, running) ? " so far" : ""} of estimated{" "}
            <span class="cost-estimate">
              {formatUsd(batch.estimatedCostUsd)}
            </span>
          </>
        )
        : <strong class="cost-spent">price unknown for this model</strong>}
      {batch.budgetUsd !== null && (
        <>
          {" · "}
          <span class="cost-cap">cap {formatUsd(batch.budgetUsd)}</span>
        </>
      )}
    </span>
  );
}
