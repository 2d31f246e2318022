/** One item of a batch: its image, or its status and reason. */
import type { Image, Item } from "../../core/records.ts";
import { COST_LABEL, formatUsd } from "../../core/cost.ts";
import { itemStatusText } from "./status_badge.tsx";
import { positionText, viewerImageData } from "./viewer.tsx";

/** Id of an item's tile (swapped as events arrive). */
export function tileId(itemId: string): string {
  return `tile-${itemId}`;
}

/**
 * Swapped by id (`tileId`) as events arrive. The image link carries what the
 * viewer (static/viewer.js) shows for it, so a tile swapped in mid-run is
 * viewable at once; without JS the link just opens the image.
 */
export function Tile(
  { item, image, batchId }: { item: Item; image?: Image; batchId: string },
) {
  const src = image && `/images/${batchId}/${image.fileName}`;
  const detail = settingsText(item);
  return (
    <figure
      id={tileId(item.id)}
      class={`tile tile-${item.status}`}
      data-status={item.status}
    >
      {src
        ? (
          <a
            href={src}
            target="_blank"
            rel="noopener"
            class="tile-image"
            hx-boost="false"
            {...viewerImageData(item, image)}
          >
            <img
              src={src}
              alt={item.prompt}
              loading="lazy"
              width={image.width ?? undefined}
              height={image.height ?? undefined}
            />
          </a>
        )
        : (
          // Focusable once it holds a reason, so keyboard users can reveal
          // a clamped error (and the prompt) the way hovering does.
          <div
            class="tile-placeholder"
            tabindex={item.errorMessage ? 0 : undefined}
          >
            <span class="badge">{itemStatusText(item.status)}</span>
            {item.errorMessage && (
              <p class="tile-error">{breakableCodes(item.errorMessage)}</p>
            )}
          </div>
        )}
      <figcaption>
        <span class="tile-prompt" data-viewer-prompt>{item.prompt}</span>
        <span class="tile-meta">
          {positionText(item)}
          {item.axis === null && detail && ` · ${detail}`}
          {item.costUsd !== null && (
            <span class="tile-cost" title={COST_LABEL}>
              {` · ${formatUsd(item.costUsd)}`}
            </span>
          )}
        </span>
      </figcaption>
      {src && (
        <form
          class="tile-more"
          method="post"
          action={`/batches/${batchId}/items/${item.id}/more`}
        >
          <input type="hidden" name="count" value="4" />
          <button
            type="submit"
            class="link-button"
            title="A new batch of 4 more images of this prompt and its settings"
          >
            More like this
          </button>
        </form>
      )}
    </figure>
  );
}

/**
 * Google's reason codes (`IMAGE_PROHIBITED_CONTENT`) are one long "word":
 * a break opportunity after each underscore lets them wrap between their
 * parts instead of mid-word or out of the tile.
 */
export function breakableCodes(message: string) {
  const parts = message.split("_");
  return parts.flatMap((part, i) =>
    i < parts.length - 1 ? [`${part}_`, <wbr />] : [part]
  );
}

/** What a tile says of its row's settings when they are its own. */
function settingsText(item: Item): string {
  const parts = [
    item.name ?? "",
    item.references.length > 0
      ? `${item.references.length} reference${
        item.references.length === 1 ? "" : "s"
      }`
      : "",
  ];
  return parts.filter(Boolean).join(" · ");
}
