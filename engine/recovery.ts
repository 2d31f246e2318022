/**
 * Crash recovery: a batch left `running` by a run that no live instance
 * holds becomes `interrupted` (resumable), every image file on disk is
 * matched to its row (a saved file missing its row is recorded, so no
 * finished image is lost or paid twice), temp files are removed and
 * manifests are rewritten.
 *
 * Several instances may share the database (and the data dir): each batch is
 * repaired under its run lease (engine/leases.ts), taken in one conditional
 * write, so a batch that another live instance runs is left alone — its
 * `running` status, its temp files and its unrecorded images are that run's.
 * At start (`recoverAfterCrash`) every batch is looked at; while serving, the
 * lease keeper (engine/lease_keeper.ts) repairs the running batches whose
 * lease lapsed (`recoverUnheldRuns`).
 */
import { join } from "node:path";
import type { Db } from "../db/client.ts";
import { findBatchById, listImages } from "../db/batch_queries.ts";
import {
  findImageOfItem,
  findItemAt,
  listBatchIdsWithStatus,
  moveItems,
  recordImage,
  settleBatch,
} from "../db/run_queries.ts";
import {
  releaseLease,
  takeLease,
  unheldRunningBatches,
} from "../db/lease_queries.ts";
import {
  type ImageFileNameParts,
  mimeTypeOf,
  parseImageFileName,
} from "../core/files.ts";
import type { Config } from "../core/config.ts";
import { IN_RUN, INTERRUPTED_BY_CRASH } from "../core/status.ts";
import { imageDimensions, sniffMimeType } from "../lib/image_info.ts";
import { isTempFileName, removeTempFiles, sha256Hex } from "../lib/storage.ts";
import { imageStoreAt } from "../lib/image_store.ts";
import { moveLocalImages, writeManifest } from "./batch_files.ts";
import { ownerNames, probeDeadOwners, recoveryOwner } from "./leases.ts";
import { batchLockFree } from "../lib/batch_lock.ts";
import { recordJournaledUsage } from "./usage_journal.ts";

/** The lease a recovery holds on each batch it repairs. */
export interface RecoveryLease {
  owner: string;
  leaseMs: number;
  /** Lease owners known to be gone: their leases count as lapsed. */
  voidOwners: readonly string[];
  /**
   * The data dir whose generator locks (lib/batch_lock.ts) say a generator
   * orphaned by a crash is still saving a batch's images: such a batch is
   * left alone until it exits (the lease keeper comes back to it).
   */
  dataDir?: string;
}

/** What a recovery changed. */
export interface Recovered {
  /** Batches that were `running` and are now `interrupted`. */
  batches: number;
  /** Files adopted (recorded) or removed (temp files). */
  files: number;
}

/**
 * Repairs the data after an unclean stop; returns what it changed. Call it
 * at start, before serving, with the instance's settings (`config`): leases
 * in this instance's own name are then a previous process's, and instances
 * sharing the data dir whose process is gone count as gone. Without them
 * (one instance that never shares its database) only leases that lapsed are
 * taken over.
 */
export async function recoverAfterCrash(
  db: Db,
  imagesDir: string,
  config?: Pick<Config, "instanceId" | "leaseMs" | "dataDir">,
): Promise<Recovered> {
  const dead = config &&
    await probeDeadOwners(config.dataDir, config.instanceId);
  try {
    const lease: RecoveryLease = {
      owner: config
        ? recoveryOwner(config.instanceId)
        : `recovery-${crypto.randomUUID()}`,
      leaseMs: config?.leaseMs ?? 60_000,
      // This instance runs nothing yet.
      voidOwners: config
        ? [...ownerNames(config.instanceId), ...dead!.voidOwners]
        : [],
      ...(config ? { dataDir: config.dataDir } : {}),
    };
    const ids = new Set<string>();
    for await (const entry of readDirOrEmpty(imagesDir)) {
      if (entry.isDirectory) ids.add(entry.name);
    }
    for (const id of await listBatchIdsWithStatus(db, "running")) ids.add(id);
    return await recoverEach(db, imagesDir, [...ids].sort(), lease);
  } finally {
    await dead?.release(db);
  }
}

/**
 * Repairs the batches marked `running` that no live instance holds (no
 * lease, a lapsed one, or one of `lease.voidOwners`), skipping those
 * `runsHere` says this process runs. The lease keeper calls it periodically.
 */
export async function recoverUnheldRuns(
  db: Db,
  imagesDir: string,
  lease: RecoveryLease,
  runsHere: (batchId: string) => boolean = () => false,
): Promise<Recovered> {
  const ids = await unheldRunningBatches(db, lease.voidOwners);
  return await recoverEach(
    db,
    imagesDir,
    ids.filter((id) => !runsHere(id)),
    lease,
  );
}

async function recoverEach(
  db: Db,
  imagesDir: string,
  ids: readonly string[],
  lease: RecoveryLease,
): Promise<Recovered> {
  const total: Recovered = { batches: 0, files: 0 };
  for (const id of ids) {
    const done = await recoverBatch(db, imagesDir, id, lease);
    if (!done) continue;
    total.files += done.files;
    if (done.interrupted) total.batches++;
  }
  return total;
}

/**
 * Repairs one batch under its lease; undefined when there was nothing to do
 * or another live instance holds it.
 */
export async function recoverBatch(
  db: Db,
  imagesDir: string,
  batchId: string,
  lease: RecoveryLease,
): Promise<{ files: number; interrupted: boolean } | undefined> {
  const batch = await findBatchById(db, batchId);
  if (!batch) return undefined;
  // Taking a lease is a write: a batch with nothing to repair gets none.
  if (
    batch.status !== "running" && !await needsRepair(db, imagesDir, batchId)
  ) {
    return undefined;
  }
  const taken = await takeLease(
    db,
    batchId,
    lease.owner,
    lease.leaseMs,
    lease.voidOwners,
  );
  if (!taken) return undefined; // A live instance runs it.
  try {
    // A generator orphaned by a crash still writes here: its temp files and
    // images are its own until it exits.
    if (lease.dataDir && !await batchLockFree(lease.dataDir, batchId)) {
      return undefined;
    }
    // Read again under the lease: the run may have ended meanwhile.
    const current = await findBatchById(db, batchId);
    if (!current) return undefined;
    const files = await adoptSavedFiles(db, imagesDir, batchId);
    let touched = files.adopted > 0;
    const interrupted = current.status === "running";
    if (interrupted) {
      await moveItems(db, batchId, IN_RUN, "interrupted");
      touched = true;
    }
    if (touched) {
      const settled = await settleBatch(db, batchId, {
        statusMessage: interrupted ? INTERRUPTED_BY_CRASH : null,
      });
      await writeManifest(db, imagesDir, settled);
    }
    return { files: files.adopted + files.removed, interrupted };
  } finally {
    await releaseLease(db, batchId, lease.owner);
  }
}

/**
 * Adopts what a batch's folder holds beyond its rows: temp files go, each
 * image file without its row gets one (its item succeeded: a Resume does not
 * request it again), and with a remote store the local files are uploaded.
 * Only with no generator of the batch running (its run lease held, its
 * generator lock free). Run by recovery, and by a run before it picks its
 * items (a generator orphaned by a crash may have saved images after
 * recovery looked).
 */
export async function adoptSavedFiles(
  db: Db,
  imagesDir: string,
  batchId: string,
): Promise<{ adopted: number; removed: number }> {
  const dir = join(imagesDir, batchId);
  const removed = await removeTempFiles(dir);
  const adoptedItems = new Set<string>();
  let recorded: Set<string> | undefined;
  for await (const file of readDirOrEmpty(dir)) {
    const parts = file.isFile ? parseImageFileName(file.name) : undefined;
    if (!parts) continue;
    // One query for the rows, not two per file already recorded.
    recorded ??= new Set(
      (await listImages(db, batchId)).map((image) => image.fileName),
    );
    if (recorded.has(file.name)) continue;
    const itemId = await adoptFile(db, batchId, dir, file.name, parts);
    if (itemId) adoptedItems.add(itemId);
  }
  // What those images cost: their usage events never reached a server.
  await recordJournaledUsage(db, dir, batchId, adoptedItems);
  // A remote image store: upload what a crash left here with its row.
  await moveLocalImages(db, imagesDir, batchId);
  return { adopted: adoptedItems.size, removed };
}

/**
 * Whether a batch's folder holds anything to repair: a temp file, an image
 * file without its row, or (with a remote store) anything left to upload.
 */
async function needsRepair(
  db: Db,
  imagesDir: string,
  batchId: string,
): Promise<boolean> {
  const dir = join(imagesDir, batchId);
  const names: string[] = [];
  for await (const entry of readDirOrEmpty(dir)) {
    if (entry.isFile) names.push(entry.name);
  }
  if (names.length === 0) return false;
  if (names.some(isTempFileName)) return true;
  if (imageStoreAt(imagesDir).kind !== "local") return true;
  const recorded = new Set(
    (await listImages(db, batchId)).map((i) => i.fileName),
  );
  return names.some((name) =>
    parseImageFileName(name) !== undefined && !recorded.has(name)
  );
}

async function adoptFile(
  db: Db,
  batchId: string,
  dir: string,
  fileName: string,
  { position, imageIndex, extension }: ImageFileNameParts,
): Promise<string | undefined> {
  const item = await findItemAt(db, batchId, position, imageIndex);
  if (!item) return undefined;
  const existing = await findImageOfItem(db, item.id);
  if (existing?.fileName === fileName) return undefined;
  const bytes = await Deno.readFile(join(dir, fileName));
  // Only a file whose bytes are what its name says is adopted.
  const mimeType = sniffMimeType(bytes);
  if (!mimeType || mimeType !== mimeTypeOf(extension)) return undefined;
  const size = imageDimensions(bytes);
  await recordImage(db, batchId, item.id, {
    fileName,
    mimeType,
    bytes: bytes.length,
    sha256: await sha256Hex(bytes),
    width: size?.width,
    height: size?.height,
  });
  return item.id;
}

async function* readDirOrEmpty(dir: string) {
  try {
    yield* Deno.readDir(dir);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}
