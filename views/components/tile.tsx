/** One item of a batch: its image, or its status and reason. */
import type { Image, Item } from "../../core/records.ts";
import { COST_LABEL, formatUsd } from "../../core/cost.ts";
import { itemStatusText } from "./status_badge.tsx";

/** Id of an item's tile (swapped as events arrive). */
export function tileId(itemId: string): string {
  return `tile-${itemId}`;
}

/** Swapped by id (`tileId`) as events arrive. */
export function Tile(
  { item, image, batchId }: { item: Item; image?: Image; batchId: string },
) {
  const src = image && `/images/${batchId}/${image.fileName}`;
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
          <div class="tile-placeholder">
            <span class="badge">{itemStatusText(item.status)}</span>
            {item.errorMessage && <p class="tile-error">{item.errorMessage}</p>}
          </div>
        )}
      <figcaption>
        <span class="tile-prompt" title={item.prompt}>{item.prompt}</span>
        <span class="tile-meta">
          #{item.position + 1}.{item.imageIndex + 1}
          {item.costUsd !== null && (
            <span class="tile-cost" title={COST_LABEL}>
              {` · ${formatUsd(item.costUsd)}`}
            </span>
          )}
        </span>
      </figcaption>
    </figure>
  );
}
