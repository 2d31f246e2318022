/**
 * Crash recovery at start: a batch left `running` becomes `interrupted`
 * (resumable), every image file on disk is matched to its row (a saved file
 * missing its row is recorded, so no finished image is lost or paid twice),
 * temp files are removed and manifests are rewritten.
 */
import { join } from "node:path";
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import {
  listRunningBatchIds,
  moveItems,
  settleBatch,
} from "../db/run_queries.ts";
import { recordImage } from "../db/item_queries.ts";
import { batches, images, items } from "../db/schema.ts";
import { imageDimensions, sniffMimeType } from "../lib/image_info.ts";
import { writeManifest } from "../core/manifest.ts";
import { parseImageFileName, removeTempFiles, sha256Hex } from "../lib/storage.ts";

export const INTERRUPTED_BY_STOP =
  "Interrupted: BatchGen stopped while this batch was running. Paste your key and Resume to finish the rest.";

/** Repairs the data after an unclean stop; returns what it changed. */
export async function recoverAfterCrash(db: Db, imagesDir: string) {
  const touched = new Set<string>();
  let files = 0;
  for await (const entry of readDirOrEmpty(imagesDir)) {
    if (!entry.isDirectory) continue;
    const batchId = entry.name;
    const batch = await db.query.batches.findFirst({
      where: eq(batches.id, batchId),
    });
    if (!batch) continue;
    const dir = join(imagesDir, batchId);
    files += await removeTempFiles(dir);
    for await (const file of Deno.readDir(dir)) {
      const parts = file.isFile ? parseImageFileName(file.name) : undefined;
      if (!parts) continue;
      if (await adoptFile(db, batchId, dir, file.name, parts)) {
        files++;
        touched.add(batchId);
      }
    }
  }
  const running = await listRunningBatchIds(db);
  for (const id of running) {
    await moveItems(db, id, ["running", "pending"], "interrupted");
    touched.add(id);
  }
  for (const id of touched) {
    const settled = await settleBatch(db, id, {
      statusMessage: running.includes(id) ? INTERRUPTED_BY_STOP : null,
    });
    await writeManifest(db, imagesDir, settled);
  }
  return { batches: running.length, files };
}

async function adoptFile(
  db: Db,
  batchId: string,
  dir: string,
  fileName: string,
  { position, imageIndex }: { position: number; imageIndex: number },
): Promise<boolean> {
  const item = await db.query.items.findFirst({
    where: and(
      eq(items.batchId, batchId),
      eq(items.position, position),
      eq(items.imageIndex, imageIndex),
    ),
  });
  if (!item) return false;
  const existing = await db.query.images.findFirst({
    where: eq(images.itemId, item.id),
  });
  if (existing?.fileName === fileName) return false;
  const bytes = await Deno.readFile(join(dir, fileName));
  const mimeType = sniffMimeType(bytes);
  if (!mimeType) return false;
  const size = imageDimensions(bytes);
  await recordImage(db, batchId, item.id, {
    fileName,
    mimeType,
    bytes: bytes.length,
    sha256: await sha256Hex(bytes),
    width: size?.width,
    height: size?.height,
  });
  return true;
}

async function* readDirOrEmpty(dir: string) {
  try {
    yield* Deno.readDir(dir);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
