/**
 * Crash recovery at start: a batch left `running` becomes `interrupted`
 * (resumable), every image file on disk is matched to its row (a saved file
 * missing its row is recorded, so no finished image is lost or paid twice),
 * temp files are removed and manifests are rewritten.
 */
import { join } from "node:path";
import type { Db } from "../db/client.ts";
import { findBatchById } from "../db/batch_queries.ts";
import {
  findImageOfItem,
  findItemAt,
  listBatchIdsWithStatus,
  moveItems,
  recordImage,
  settleBatch,
} from "../db/run_queries.ts";
import {
  type ImageFileNameParts,
  mimeTypeOf,
  parseImageFileName,
} from "../core/files.ts";
import { IN_RUN, INTERRUPTED_BY_CRASH } from "../core/status.ts";
import { imageDimensions, sniffMimeType } from "../lib/image_info.ts";
import { removeTempFiles, sha256Hex } from "../lib/storage.ts";
import { writeManifest } from "./batch_files.ts";

/** Repairs the data after an unclean stop; returns what it changed. */
export async function recoverAfterCrash(db: Db, imagesDir: string) {
  const touched = new Set<string>();
  let files = 0;
  for await (const entry of readDirOrEmpty(imagesDir)) {
    if (!entry.isDirectory) continue;
    const batchId = entry.name;
    if (!await findBatchById(db, batchId)) continue;
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
  const running = await listBatchIdsWithStatus(db, "running");
  for (const id of running) {
    await moveItems(db, id, IN_RUN, "interrupted");
    touched.add(id);
  }
  for (const id of touched) {
    const settled = await settleBatch(db, id, {
      statusMessage: running.includes(id) ? INTERRUPTED_BY_CRASH : null,
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
  { position, imageIndex, extension }: ImageFileNameParts,
): Promise<boolean> {
  const item = await findItemAt(db, batchId, position, imageIndex);
  if (!item) return false;
  const existing = await findImageOfItem(db, item.id);
  if (existing?.fileName === fileName) return false;
  const bytes = await Deno.readFile(join(dir, fileName));
  // Only a file whose bytes are what its name says is adopted.
  const mimeType = sniffMimeType(bytes);
  if (!mimeType || mimeType !== mimeTypeOf(extension)) return false;
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
