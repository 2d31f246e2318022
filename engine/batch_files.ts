/**
 * A batch's files in its image store (the data dir or an S3 bucket): safe
 * paths, the manifest, the ZIP download, removal, and moving what the
 * generator wrote on this machine into the store.
 */
import { downloadZip } from "client-zip";
import { join } from "node:path";
import type { Db } from "../db/client.ts";
import { findImage, listImages, listItems } from "../db/batch_queries.ts";
import type { Batch, Item } from "../core/records.ts";
import { buildManifest, downloadNames } from "../core/manifest.ts";
import { referencesByIds } from "../db/reference_queries.ts";
import {
  IMAGE_FILE_NAME,
  isSafeBatchId,
  MANIFEST_NAME,
} from "../core/files.ts";
import { sha256Hex } from "../lib/storage.ts";
import {
  type ImageStore,
  imageStoreAt,
  localNames,
} from "../lib/image_store.ts";

/**
 * A store, or the images dir of one: code that is handed only the dir gets
 * the store configured for it (`imageStoreFor` at start), else the local one.
 */
export type StoreOrDir = ImageStore | string;

function storeOf(where: StoreOrDir): ImageStore {
  return typeof where === "string" ? imageStoreAt(where) : where;
}

/**
 * Streams the batch's images plus a fresh manifest.json as a ZIP, never whole
 * in memory: each image is opened from the store only when the ZIP reaches it.
 */
export async function zipResponse(
  db: Db,
  where: StoreOrDir,
  batch: Batch,
): Promise<Response> {
  const store = storeOf(where);
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
      if (!IMAGE_FILE_NAME.test(image.fileName)) continue;
      const file = await store.get(batch.id, image.fileName);
      // A missing file is reported by the manifest's row, not a broken ZIP.
      if (!file) continue;
      yield {
        name: names.get(image.id) ?? image.fileName,
        input: file.body,
        lastModified: image.createdAt,
        size: file.size ?? image.bytes,
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

/** Removes every file of a batch from its store (and its local folder). */
export async function removeBatchFiles(
  where: StoreOrDir,
  batchId: string,
): Promise<void> {
  if (!isSafeBatchId(batchId)) return;
  await storeOf(where).remove(batchId);
}

/**
 * Reads the batch's rows, rewrites its manifest in the store and returns the
 * items. With a remote store it first moves the images this machine still
 * holds for the batch into it (see `moveLocalImages`): call it when no
 * generator is writing into the batch's folder (a run's end, recovery).
 */
export async function writeManifest(
  db: Db,
  where: StoreOrDir,
  batch: Batch,
): Promise<Item[]> {
  const store = storeOf(where);
  await moveLocalImages(db, store, batch.id);
  const items = await listItems(db, batch.id);
  const manifest = buildManifest(
    batch,
    items,
    await listImages(db, batch.id),
    "BatchGen",
    await batchReferences(db, batch, items),
  );
  const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2));
  const written = store.put(
    batch.id,
    MANIFEST_NAME,
    { bytes },
    await sha256Hex(bytes),
    { replace: true },
  );
  // In a bucket the manifest is a copy for whoever browses it (the API and
  // the ZIP build a fresh one): a store that is down must not fail the run's
  // end. It is written again at the batch's next run end.
  await (store.kind === "local" ? written : written.catch(() => {}));
  return items;
}

/**
 * Puts one image the generator saved (and the run recorded) into the store:
 * nothing to do for the local store; an upload, then removal of the local
 * file, for a remote one. Throws when the store refuses it; the file then
 * stays where it is and `moveLocalImages` tries again later.
 */
export async function keepImage(
  store: ImageStore,
  batchId: string,
  image: { fileName: string; sha256: string },
): Promise<void> {
  if (store.kind === "local") return;
  await store.put(
    batchId,
    image.fileName,
    { path: join(store.localDir(batchId), image.fileName) },
    image.sha256,
  );
}

/**
 * With a remote store: uploads each image left in the batch's local folder
 * whose row is recorded (an upload that failed, or a crash between the row
 * and the upload), removes it, and removes the folder once it is empty. A
 * file without a row is left for crash recovery to adopt. Returns how many
 * files could not be moved (they stay, and are tried again next time).
 */
export async function moveLocalImages(
  db: Db,
  where: StoreOrDir,
  batchId: string,
): Promise<number> {
  const store = storeOf(where);
  if (store.kind === "local" || !isSafeBatchId(batchId)) return 0;
  const dir = store.localDir(batchId);
  let left = 0;
  for (const name of await localNames(dir)) {
    const image = IMAGE_FILE_NAME.test(name)
      ? await findImage(db, batchId, name)
      : undefined;
    if (!image) {
      // The manifest is written to the store; an old local copy is stale.
      if (name === MANIFEST_NAME) {
        await Deno.remove(join(dir, name)).catch(() => {});
      } else left++;
      continue;
    }
    try {
      await keepImage(store, batchId, image);
    } catch {
      left++;
    }
  }
  // Only an empty folder goes; a temp file of a live write keeps it.
  await Deno.remove(dir).catch(() => {});
  return left;
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
