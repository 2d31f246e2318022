/** One batch: summary, actions and the grid of tiles. */
import type { Batch, Image, Item, ReferenceImage } from "../../core/records.ts";
import { CompareGrid, hasMatrix } from "../components/compare_grid.tsx";
import { SyncPoller } from "../components/sync_poller.tsx";
import { DEFAULTS } from "../../core/limits.ts";
import { findModel } from "../../core/catalog.ts";
import { BatchSummary } from "../components/batch_summary.tsx";
import { ConfirmStart } from "../components/confirm_start.tsx";
import { Tile } from "../components/tile.tsx";
import { Viewer } from "../components/viewer.tsx";

export interface BatchPageProps {
  batch: Batch;
  items: Item[];
  images: Image[];
  running: boolean;
  /** Ask before starting (estimate above the confirm threshold). */
  confirm?: boolean;
  /** The run (if any) streams to another page: keep the summary fresh. */
  watch?: boolean;
  /** The reference images the batch's rows send. */
  references?: readonly ReferenceImage[];
  /** A matrix batch shows its compare grid unless asked for the list. */
  view?: "compare" | "list";
  /** Batch mode, at Google: how often the open page checks on the jobs. */
  syncEvery?: number;
  /** What the last check said. */
  syncMessage?: string;
  /**
   * Batch mode, at Google: check once as soon as the page is shown (a
   * visit or a reload; an empty key field is pointed out at once). False
   * when the page is itself the answer to a check.
   */
  syncOnLoad?: boolean;
}

/** Id of a batch's whole section (replaced when a watched run ends). */
export function batchSectionId(batchId: string): string {
  return `batch-${batchId}`;
}

/** The batch page; tiles and summary update live by id during a run. */
export function BatchPage(
  {
    batch,
    items,
    images,
    running,
    confirm = false,
    watch = false,
    references = [],
    view = "compare",
    syncEvery = DEFAULTS.syncEverySeconds,
    syncMessage,
    syncOnLoad = true,
  }: BatchPageProps,
) {
  const compare = hasMatrix(items);

  const imageByItem = new Map(images.map((image) => [image.itemId, image]));
  const s = batch.settings;
  return (
    <section class="panel batch" id={batchSectionId(batch.id)}>
      <h1>{batch.title}</h1>
      <p class="settings">
        {settingsText(batch, items)} · {batch.mode === "batch"
          ? "Batch mode (Google's Batch API)"
          : `${s.concurrency} in parallel`} · created{" "}
        <time datetime={batch.createdAt.toISOString()}>
          {batch.createdAt.toISOString().slice(0, 16).replace("T", " ")} UTC
        </time>
      </p>
      {confirm && <ConfirmStart batch={batch} />}
      <BatchSummary
        batch={batch}
        running={running}
        watch={watch}
        confirming={confirm}
        inPage
      />
      {batch.status === "submitted" && !running && (
        <SyncPoller
          batchId={batch.id}
          everySeconds={syncEvery}
          message={syncMessage}
          checkOnLoad={syncOnLoad}
        />
      )}
      {references.length > 0 && (
        <ul class="references-list" aria-label="Reference images">
          {references.map((ref) => (
            <li>
              <img
                src={`/references/${ref.id}`}
                alt=""
                width={ref.width ?? undefined}
                height={ref.height ?? undefined}
                loading="lazy"
              />
              <span>{ref.name}</span>
            </li>
          ))}
        </ul>
      )}
      {compare && (
        <p class="view-switch">
          {view === "list"
            ? <a href={`/batches/${batch.id}`}>Show the compare grid</a>
            : <a href={`/batches/${batch.id}?view=list`}>Show as a list</a>}
        </p>
      )}
      {compare && view === "compare"
        ? (
          <CompareGrid
            batchId={batch.id}
            items={items}
            imageByItem={imageByItem}
          />
        )
        : (
          <div class="grid" id={`grid-${batch.id}`}>
            {items.map((item) => (
              <Tile
                item={item}
                image={imageByItem.get(item.id)}
                batchId={batch.id}
              />
            ))}
          </div>
        )}
      <Viewer batch={batch} />
    </section>
  );
}

/**
 * "Nano Banana Pro · 16:9 · 2K · 2 per prompt", or what the rows vary in
 * when each carries its own ("2 models · ratio and count per row").
 */
function settingsText(batch: Batch, items: readonly Item[]): string {
  const s = batch.settings;
  const distinct = (pick: (i: Item) => string | number) =>
    new Set(items.map(pick)).size;
  const counts = new Map<number, number>();
  for (const i of items) {
    counts.set(i.position, (counts.get(i.position) ?? 0) + 1);
  }
  const models = distinct((i) => i.model);
  const parts = [
    models > 1
      ? `${models} models`
      : findModel(items[0]?.model ?? batch.model)?.label ?? batch.model,
    distinct((i) => i.aspectRatio) > 1
      ? "ratio per row"
      : items[0]?.aspectRatio ?? s.aspectRatio,
    distinct((i) => i.imageSize) > 1
      ? "size per row"
      : items[0]?.imageSize ?? s.imageSize,
    new Set(counts.values()).size > 1
      ? "images per row"
      : `${counts.values().next().value ?? s.imagesPerPrompt} per prompt`,
  ];
  if (s.expandTemplates) parts.push("templates expanded");
  if (s.sample) {
    parts.push(`${s.sample.count} random picks (seed ${s.sample.seed})`);
  }
  if (s.eachReference) parts.push("one row per reference image");
  if (s.matrix) parts.push("settings matrix");
  return parts.join(" · ");
}
