/**
 * The one `manifest.json` format: prompt, settings, status, tokens and cost
 * per image. The server writes it next to a batch's images and into its ZIP;
 * the CLI writes the same document for the images it made. It is built from
 * records only, so it is key-free by construction (K1).
 */
import { type Batch, type Image, type Item, usageOf } from "./records.ts";
import { costLabel, PRICE_LIST_DATE } from "./cost.ts";

/** Which program wrote a manifest: the server, or the CLI. */
export type ManifestSource = "BatchGen" | "BatchGen CLI";

/** Builds the manifest document of a batch. */
export function buildManifest(
  batch: Batch,
  items: readonly Item[],
  images: readonly Image[],
  generator: ManifestSource = "BatchGen",
) {
  const imageByItem = new Map(images.map((image) => [image.itemId, image]));
  return {
    generator,
    batch: {
      id: batch.id,
      title: batch.title,
      createdAt: batch.createdAt.toISOString(),
      updatedAt: batch.updatedAt.toISOString(),
      status: batch.status,
      statusMessage: batch.statusMessage,
      model: batch.model,
      settings: batch.settings,
      counts: {
        items: batch.itemCount,
        succeeded: batch.succeededCount,
        failed: batch.failedCount,
        blocked: batch.blockedCount,
      },
      cost: {
        label: costLabel(batch.priceListDate),
        priceListDate: batch.priceListDate ?? PRICE_LIST_DATE,
        estimatedUsd: batch.estimatedCostUsd,
        actualUsd: batch.actualCostUsd,
      },
    },
    items: items.map((item) => {
      const image = imageByItem.get(item.id);
      return {
        position: item.position,
        imageIndex: item.imageIndex,
        prompt: item.prompt,
        status: item.status,
        attempts: item.attempts,
        file: image?.fileName ?? null,
        mimeType: image?.mimeType ?? null,
        bytes: image?.bytes ?? null,
        sha256: image?.sha256 ?? null,
        width: image?.width ?? null,
        height: image?.height ?? null,
        errorKind: item.errorKind,
        errorMessage: item.errorMessage,
        usage: usageOf(item),
        estimatedCostUsd: item.costUsd,
      };
    }),
  };
}
