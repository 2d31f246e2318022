/** The gallery: every image of the workspace, newest first, filterable. */
import type { Batch, BatchStatus, Image, Item } from "../../core/records.ts";
import { KNOWN_MODELS } from "../../core/catalog.ts";
import { COST_LABEL, formatUsd } from "../../core/cost.ts";
import { batchStatusText } from "../components/status_badge.tsx";
import { tileId } from "../components/tile.tsx";

/** One image with the item it answers (and its prompt) and its batch. */
export interface GalleryEntry {
  image: Image;
  item: Item;
  batch: Batch;
}

/** What the gallery is filtered by ("" = any). */
export interface GalleryFilterValues {
  query: string;
  model: string;
  status: string;
}

/** The batch statuses a batch with images can have, as the filter offers them. */
export const GALLERY_STATUSES: readonly BatchStatus[] = [
  "done",
  "partial",
  "running",
  "interrupted",
  "cancelled",
];

/** Prompts longer than this may be cut to two lines: hover or focus shows them whole. */
const SHORT_PROMPT = 48;

export interface GalleryPageProps {
  images: GalleryEntry[];
  filter: GalleryFilterValues;
  nextCursor: string | null;
}

/** Id of an image's card. */
export function galleryItemId(imageId: string): string {
  return `gallery-${imageId}`;
}

/** A grid of thumbnails, each linking to its image in its batch. */
export function GalleryPage({ images, filter, nextCursor }: GalleryPageProps) {
  const filtered = Boolean(filter.query || filter.model || filter.status);
  const params = (extra: Record<string, string> = {}) => {
    const query = new URLSearchParams(extra);
    if (filter.query) query.set("q", filter.query);
    if (filter.model) query.set("model", filter.model);
    if (filter.status) query.set("status", filter.status);
    return query;
  };
  const more = nextCursor && `/gallery?${params({ cursor: nextCursor })}`;
  return (
    <section class="panel">
      <h1>Gallery</h1>
      <form
        class="gallery-filters"
        action="/gallery"
        method="get"
        role="search"
      >
        <input
          type="search"
          name="q"
          value={filter.query}
          placeholder="Search prompts"
          aria-label="Search prompts"
        />
        <select name="model" aria-label="Model">
          <option value="" selected={!filter.model}>Any model</option>
          {KNOWN_MODELS.map((m) => (
            <option value={m.id} selected={filter.model === m.id}>
              {m.label}
            </option>
          ))}
        </select>
        <select name="status" aria-label="Batch status">
          <option value="" selected={!filter.status}>Any status</option>
          {GALLERY_STATUSES.map((s) => (
            <option value={s} selected={filter.status === s}>
              {batchStatusText(s)}
            </option>
          ))}
        </select>
        <button type="submit" class="button secondary">Filter</button>
        {filtered && <a href="/gallery" class="gallery-clear">Show all</a>}
      </form>
      {images.length === 0
        ? (
          <p class="empty">
            {filtered
              ? "No image matches these filters."
              : "No images yet. Generate some on the New batch page."}
          </p>
        )
        : (
          <ul class="gallery" aria-label="Images, newest first">
            {images.map((entry) => <GalleryCard {...entry} />)}
          </ul>
        )}
      {more && (
        <p>
          <a class="button secondary" href={more}>Older images</a>
        </p>
      )}
    </section>
  );
}

/** A thumbnail linking to its tile on the batch page, its prompt and batch. */
function GalleryCard({ image, item, batch }: GalleryEntry) {
  const batchHref = `/batches/${batch.id}`;
  const long = item.prompt.length > SHORT_PROMPT;
  return (
    <li
      class="gallery-item"
      id={galleryItemId(image.id)}
      data-batch={batch.id}
      data-status={batch.status}
    >
      <a class="gallery-link" href={`${batchHref}#${tileId(item.id)}`}>
        <img
          src={`/images/${batch.id}/${image.fileName}`}
          alt={item.prompt}
          loading="lazy"
          width={image.width ?? undefined}
          height={image.height ?? undefined}
        />
        {long && (
          // Shown over the image on hover or focus; screen readers have
          // the whole prompt as the image's alt.
          <span class="gallery-full" aria-hidden="true">{item.prompt}</span>
        )}
      </a>
      {/* The link's name already says it (the alt): shown, not read twice. */}
      <p class="gallery-prompt" aria-hidden="true">{item.prompt}</p>
      <p class="gallery-meta">
        <a href={batchHref} class="gallery-batch">{batch.title}</a>
        {item.costUsd !== null && (
          <span class="gallery-cost" title={COST_LABEL}>
            {formatUsd(item.costUsd)}
          </span>
        )}
      </p>
    </li>
  );
}
