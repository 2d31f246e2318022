/**
 * The image viewer of a batch page: one `<dialog>` that static/viewer.js
 * fills from the tile that was clicked. Each tile's image link carries its
 * own figures as `data-viewer-*` attributes and the dialog holds one slot
 * (`data-viewer-slot`) per name, so the script only copies text across and
 * no markup is built in the browser. Settings shared by the whole batch are
 * rendered here once, not into every tile.
 */
import type { Batch, Image, Item } from "../../core/records.ts";
import { findModel } from "../../core/catalog.ts";
import { costLabel, formatUsd, PRICE_LIST_DATE } from "../../core/cost.ts";

/** Id of the viewer dialog (static/viewer.js looks it up by this id). */
export const VIEWER_ID = "viewer";
const TITLE_ID = "viewer-title";

/** Marks a link the viewer can show (static/viewer.js finds them by it). */
export const VIEWER_IMAGE_ATTR = "data-viewer-image";

/** The per-image figures the viewer shows, by slot name. */
type Slot =
  | "position"
  | "tokens"
  | "cost"
  | "pixels"
  | "file"
  | "model"
  | "ratio"
  | "size";

/** "#3.1": prompt 3, image 1, as tiles and the viewer both say it. */
export function positionText(item: Item): string {
  return `#${item.position + 1}.${item.imageIndex + 1}`;
}

/** Attributes of a tile's image link: the marker and every figure. */
export function viewerImageData(
  item: Item,
  image: Image,
): Record<string, string> {
  const figures: Record<Slot, string> = {
    position: positionText(item),
    tokens: tokensText(item),
    cost: formatUsd(item.costUsd),
    pixels: image.width && image.height
      ? `${image.width} × ${image.height} px`
      : "",
    file: image.fileName,
    // Each row runs with its own settings (a table, a matrix).
    model: findModel(item.model)?.label ?? item.model,
    ratio: item.aspectRatio,
    size: item.imageSize,
  };
  return Object.fromEntries([
    [VIEWER_IMAGE_ATTR, ""],
    ...Object.entries(figures).map(([slot, value]) => [
      `data-viewer-${slot}`,
      value,
    ]),
  ]);
}

/** Token usage in words; Google reports image and thinking tokens apart. */
function tokensText(item: Item): string {
  if (item.promptTokens === null) return "not reported";
  const n = (count: number) => count.toLocaleString("en-US");
  const parts = [`${n(item.promptTokens)} prompt`];
  if (item.outputTokens !== null) {
    parts.push(
      item.imageTokens
        ? `${n(item.outputTokens)} output (${n(item.imageTokens)} image)`
        : `${n(item.outputTokens)} output`,
    );
  }
  if (item.thoughtTokens) parts.push(`${n(item.thoughtTokens)} thinking`);
  return parts.join(" · ");
}

/** A text slot the script fills from the shown tile. */
function SlotText({ name }: { name: Slot | "prompt" }) {
  return <span data-viewer-slot={name}></span>;
}

/** The dialog, closed; static/viewer.js opens it over the grid. */
export function Viewer({ batch }: { batch: Batch }) {
  const label = costLabel(batch.priceListDate);
  return (
    <dialog id={VIEWER_ID} class="viewer" aria-labelledby={TITLE_ID}>
      <div class="viewer-bar">
        <h2 id={TITLE_ID} class="viewer-title">
          Image <SlotText name="position" />
        </h2>
        <button
          type="button"
          class="button secondary"
          data-viewer-step="-1"
          aria-keyshortcuts="ArrowLeft"
        >
          <span aria-hidden="true">←</span>{" "}
          <span class="viewer-step-word">Previous</span>
        </button>
        <button
          type="button"
          class="button secondary"
          data-viewer-step="1"
          aria-keyshortcuts="ArrowRight"
        >
          <span class="viewer-step-word">Next</span>{" "}
          <span aria-hidden="true">→</span>
        </button>
        {/* Closes natively (htmx does not boost method=dialog forms). */}
        <form method="dialog" class="viewer-close">
          <button type="submit" class="button secondary" autofocus>
            Close
          </button>
        </form>
      </div>
      <div class="viewer-body">
        <div class="viewer-figure">
          <img data-viewer-slot="image" alt="" />
        </div>
        <div class="viewer-info">
          <p class="viewer-prompt">
            <SlotText name="prompt" />
          </p>
          <dl class="viewer-facts">
            <dt>Model</dt>
            <dd>
              <SlotText name="model" />
            </dd>
            <dt>Aspect ratio</dt>
            <dd>
              <SlotText name="ratio" />
            </dd>
            <dt>Size</dt>
            <dd>
              <SlotText name="size" /> <SlotText name="pixels" />
            </dd>
            <dt>Image</dt>
            <dd>
              <SlotText name="position" />
            </dd>
            <dt>Tokens</dt>
            <dd>
              <SlotText name="tokens" />
            </dd>
            <dt>Cost</dt>
            <dd title={label}>
              <SlotText name="cost" />{" "}
              <small class="viewer-cost-label">
                estimated Google usage, not a BatchGen charge (prices as of{" "}
                {batch.priceListDate ?? PRICE_LIST_DATE})
              </small>
            </dd>
          </dl>
          <a class="button primary" data-viewer-slot="download" download>
            Download
          </a>
        </div>
      </div>
    </dialog>
  );
}
