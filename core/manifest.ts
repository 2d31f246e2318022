/**
 * The one `manifest.json` format: prompt, settings, status, tokens and cost
 * per image. The server writes it next to a batch's images and into its ZIP;
 * the CLI writes the same document for the images it made. It is built from
 * records only, so it is key-free by construction (K1).
 */
import { type Batch, type Image, type Item, usageOf } from "./records.ts";
import { costLabel, PRICE_LIST_DATE } from "./cost.ts";
import { nameStem } from "./batch_row.ts";
import { parseImageFileName } from "./files.ts";

/** A reference image as the manifest lists it: what it was, never where. */
export interface ManifestReference {
  id: string;
  name: string;
  mimeType: string;
  bytes: number;
  sha256: string;
}

/**
 * The name each image has in downloads: its row's name when it has one
 * (`red-shoe-1.jpg`), else its stored name (`0003-1.png`). Never two alike.
 */
export function downloadNames(
  items: readonly Item[],
  images: readonly Image[],
): Map<string, string> {
  const itemById = new Map(items.map((item) => [item.id, item]));
  const names = new Map<string, string>();
  const taken = new Set(images.map((image) => image.fileName));
  for (const image of images) {
    const item = itemById.get(image.itemId);
    const extension = parseImageFileName(image.fileName)?.extension;
    const named = item?.name && extension &&
      `${nameStem(item.name)}-${item.imageIndex + 1}.${extension}`;
    if (named && !taken.has(named)) {
      taken.add(named);
      names.set(image.id, named);
    } else names.set(image.id, image.fileName);
  }
  return names;
}

/** Which program wrote a manifest: the server, or the CLI. */
export type ManifestSource = "BatchGen" | "BatchGen CLI";

/** Builds the manifest document of a batch. */
export function buildManifest(
  batch: Batch,
  items: readonly Item[],
  images: readonly Image[],
  generator: ManifestSource = "BatchGen",
  references: readonly ManifestReference[] = [],
) {
  const imageByItem = new Map(images.map((image) => [image.itemId, image]));
  const download = downloadNames(items, images);
  const referenceById = new Map(references.map((r) => [r.id, r]));
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
      mode: batch.mode,
      settings: batch.settings,
      references: references.map(({ name, mimeType, bytes, sha256 }) => ({
        name,
        mimeType,
        bytes,
        sha256,
      })),
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
        model: item.model,
        aspectRatio: item.aspectRatio,
        imageSize: item.imageSize,
        name: item.name,
        row: item.row,
        template: item.template,
        choices: item.choices,
        axis: item.axis,
        references: item.references.map((id) => {
          const ref = referenceById.get(id);
          return ref ? { name: ref.name, sha256: ref.sha256 } : { id };
        }),
        status: item.status,
        attempts: item.attempts,
        file: image?.fileName ?? null,
        /** The image's name in the ZIP download. */
        downloadName: image ? download.get(image.id) ?? null : null,
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
