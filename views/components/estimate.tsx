/** The live cost estimate on the new-batch form. */
import { atModePrice, COST_LABEL, formatUsd } from "../../core/cost.ts";

export interface EstimateProps {
  /** Rows (prompts after expansion). */
  prompts: number;
  imagesPerPrompt: number;
  /** False when rows ask for different counts (then only the total shows). */
  uniform?: boolean;
  images: number;
  perImageUsd: number | null;
  totalUsd: number | null;
  priceListDate: string;
}

/**
 * "3 prompts × 2 images = 6 images", then both prices: "Now: about $0.134
 * per image, $0.806 in total" and "Batch mode: about $0.0672 per image,
 * $0.403 in total". The form's "When" choice highlights its own (app.css).
 */
export function Estimate(p: EstimateProps) {
  return (
    // The K9 label is the figure's tooltip; the page says it once, below.
    <div
      class="estimate-body"
      data-total={p.totalUsd ?? ""}
      title={COST_LABEL}
    >
      <p class="estimate-count">
        <strong>{p.prompts}</strong> prompt{p.prompts === 1 ? "" : "s"}
        {p.uniform === false ? ", " : (
          <>
            {" × "}
            <strong>{p.imagesPerPrompt}</strong>{" "}
            image{p.imagesPerPrompt === 1 ? "" : "s"} ={" "}
          </>
        )}
        <strong>{p.images}</strong> image{p.images === 1 ? "" : "s"}
        {p.perImageUsd === null && " · price unknown for this model"}
      </p>
      {p.perImageUsd !== null && (
        <p class="estimate-modes">
          <span class="estimate-mode estimate-now">
            <span class="estimate-mode-name">Now:</span> about{" "}
            <strong>{formatUsd(p.perImageUsd)}</strong> per image,{" "}
            <strong class="estimate-total">{formatUsd(p.totalUsd)}</strong>{" "}
            in total
          </span>{" "}
          <span class="estimate-mode estimate-later">
            <span class="estimate-mode-name">Batch mode:</span> about{" "}
            <strong>{formatUsd(atModePrice(p.perImageUsd, "batch"))}</strong>
            {" "}
            per image,{" "}
            <strong class="estimate-batch">
              {formatUsd(atModePrice(p.totalUsd, "batch"))}
            </strong>{" "}
            in total
          </span>
        </p>
      )}
    </div>
  );
}
