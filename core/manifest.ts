/**
 * The per-batch `manifest.json`: prompt, settings, status, tokens and cost per
 * image. Built from the database only, so it is key-free by construction (K1).
 */
import { join } from "node:path";
import type { Db } from "../db/client.ts";
import { listImages, listItems } from "../db/batch_queries.ts";
import type { Batch, Image, Item } from "../db/schema.ts";
import { costLabel, PRICE_LIST_DATE } from "./cost.ts";
import { writeFileAtomic } from "../lib/storage.ts";
import { usageJson } from "../http/api/json.ts";

export const MANIFEST_NAME = "manifest.json";

/** Builds the manifest document of a batch. */
export function buildManifest(batch: Batch, items: Item[], images: Image[]) {
  const imageByItem = new Map(images.map((image) => [image.itemId, image]));
  return {
    generator: "BatchGen",
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
        usage: usageJson(item),
        estimatedCostUsd: item.costUsd,
      };
    }),
  };
}

/** Reads the batch's rows, rewrites its manifest atomically and returns the items. */
export async function writeManifest(
  db: Db,
  imagesDir: string,
  batch: Batch,
): Promise<Item[]> {
  const items = await listItems(db, batch.id);
  const manifest = buildManifest(batch, items, await listImages(db, batch.id));
  const dir = join(imagesDir, batch.id);
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(
    dir,
    MANIFEST_NAME,
    new TextEncoder().encode(JSON.stringify(manifest, null, 2)),
  );
  return items;
}
