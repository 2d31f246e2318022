/** One batch: summary, actions and the grid of tiles. */
import type { Batch, Image, Item } from "../../core/records.ts";
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
}

/** Id of a batch's whole section (replaced when a watched run ends). */
export function batchSectionId(batchId: string): string {
  return `batch-${batchId}`;
}

/** The batch page; tiles and summary update live by id during a run. */
export function BatchPage(
  { batch, items, images, running, confirm = false, watch = false }:
    BatchPageProps,
) {
  const imageByItem = new Map(images.map((image) => [image.itemId, image]));
  const s = batch.settings;
  return (
    <section class="panel batch" id={batchSectionId(batch.id)}>
      <h1>{batch.title}</h1>
      <p class="settings">
        {findModel(batch.model)?.label ?? batch.model} · {s.aspectRatio} ·{" "}
        {s.imageSize} · {s.imagesPerPrompt} per prompt · {s.concurrency}{" "}
        in parallel · created{" "}
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
      />
      <div class="grid" id={`grid-${batch.id}`}>
        {items.map((item) => (
          <Tile
            item={item}
            image={imageByItem.get(item.id)}
            batchId={batch.id}
          />
        ))}
      </div>
      <Viewer batch={batch} />
    </section>
  );
}
