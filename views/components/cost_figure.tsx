/**
 * A batch's running cost figure: what it has used so far, of what it was
 * estimated at, and its cap, always with the K9 label and price-list date.
 * A model without a price shows "price unknown", never "$0.00".
 */
import type { Batch } from "../../core/records.ts";
import {
  costLabel,
  formatUsd,
  knownPrice,
  PRICE_LIST_DATE,
} from "../../core/cost.ts";

/** The used-so-far amount; "price unknown" (never "$0.00") without a price. */
export function spentText(batch: Batch): string {
  return knownPrice(batch.model)
    ? formatUsd(batch.actualCostUsd)
    : "price unknown";
}

/** "$0.27 so far of estimated $0.81 · cap $0.50". */
export function runningCostText(batch: Batch): string {
  const cap = batch.budgetUsd === null
    ? ""
    : ` · cap ${formatUsd(batch.budgetUsd)}`;
  if (!knownPrice(batch.model)) return `price unknown for this model${cap}`;
  return `${spentText(batch)} so far of estimated ${
    formatUsd(batch.estimatedCostUsd)
  }${cap}`;
}

/** The figure with its label, for the summary. */
export function CostFigure({ batch }: { batch: Batch }) {
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
            <strong class="cost-spent">{spentText(batch)}</strong>{" "}
            so far of estimated{" "}
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
      )}{" "}
      <small>
        · prices as of{" "}
        {batch.priceListDate ?? PRICE_LIST_DATE}, not a BatchGen charge
      </small>
    </span>
  );
}
