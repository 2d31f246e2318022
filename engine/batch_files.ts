/** A batch's files on disk: safe paths, the manifest, the ZIP download, removal. */
import { downloadZip } from "client-zip";
import { join } from "node:path";
import type { Db } from "../db/client.ts";
import { listImages, listItems } from "../db/batch_queries.ts";
import type { Batch, Item } from "../core/records.ts";
import { buildManifest, downloadNames } from "../core/manifest.ts";
import { referencesByIds } from "../db/reference_queries.ts";
import {
  IMAGE_FILE_NAME,
  isSafeBatchId,
  MANIFEST_NAME,
} from "../core/files.ts";
import { writeFileAtomic } from "../lib/storage.ts";

/**
 * Joins a batch id and file name only when neither can escape the images dir
 * and the name is one the generator writes (so only stored formats are served).
 */
export function imagePath(
  imagesDir: string,
  batchId: string,
  fileName: string,
): string | undefined {
  if (!isSafeBatchId(batchId) || !IMAGE_FILE_NAME.test(fileName)) {
    return undefined;
  }
  return join(imagesDir, batchId, fileName);
}

/** Streams the batch's images plus a fresh manifest.json as a ZIP, never whole in memory. */
export async function zipResponse(
  db: Db,
  imagesDir: string,
  batch: Batch,
): Promise<Response> {
  const items = await listItems(db, batch.id);
  const images = await listImages(db, batch.id);
  const manifest = JSON.stringify(
    buildManifest(
      batch,
      items,
      images,
      "BatchGen",
      await batchReferences(db, batch, items),
    ),
    null,
    2,
  );
  const names = downloadNames(items, images);
  async function* entries() {
    yield {
      name: MANIFEST_NAME,
      input: manifest,
      lastModified: batch.updatedAt,
    };
    for (const image of images) {
      const path = imagePath(imagesDir, batch.id, image.fileName);
      if (!path) continue;
      let file: Deno.FsFile;
      try {
        file = await Deno.open(path, { read: true });
      } catch {
        continue; // A missing file is reported by the manifest's row, not a broken ZIP.
      }
      yield {
        name: names.get(image.id) ?? image.fileName,
        input: file.readable,
        lastModified: image.createdAt,
        size: image.bytes,
      };
    }
  }
  const zip = downloadZip(entries());
  const name = `batchgen-${batch.id}.zip`;
  return new Response(zip.body, {
    headers: {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename="${name}"`,
      "cache-control": "no-store",
    },
  });
}

/** Removes a batch's folder. */
export async function removeBatchFiles(
  imagesDir: string,
  batchId: string,
): Promise<void> {
  if (!isSafeBatchId(batchId)) return;
  await Deno.remove(join(imagesDir, batchId), { recursive: true }).catch(
    (error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    },
  );
}

/** Reads the batch's rows, rewrites its manifest atomically and returns the items. */
export async function writeManifest(
  db: Db,
  imagesDir: string,
  batch: Batch,
): Promise<Item[]> {
  const items = await listItems(db, batch.id);
  const manifest = buildManifest(
    batch,
    items,
    await listImages(db, batch.id),
    "BatchGen",
    await batchReferences(db, batch, items),
  );
  const dir = join(imagesDir, batch.id);
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(
    dir,
    MANIFEST_NAME,
    new TextEncoder().encode(JSON.stringify(manifest, null, 2)),
  );
  return items;
}

/** The reference images a batch's items use, once each. */
export async function batchReferences(
  db: Db,
  batch: Batch,
  items: readonly Item[],
) {
  const ids = [...new Set(items.flatMap((item) => item.references))];
  return ids.length === 0
    ? []
    : await referencesByIds(db, batch.workspaceId, ids);
}
