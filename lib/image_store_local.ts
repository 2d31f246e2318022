/**
 * The image store's contract, and its local implementation: files under
 * `imagesDir/<batchId>/<file>`, written atomically (today's behaviour).
 */
import { join, resolve } from "node:path";
import type { StorageConfig } from "../core/config.ts";
import {
  IMAGE_FILE_NAME,
  isSafeBatchId,
  MANIFEST_NAME,
} from "../core/files.ts";
import { isTempFileName, writeFileAtomic } from "./storage.ts";

/** One stored file, opened for streaming. */
export interface StoredFile {
  body: ReadableStream<Uint8Array>;
  /** Its size in bytes, when the store says. */
  size: number | undefined;
}

/** What `put` may be given: a local file (moved into the store) or bytes. */
export type PutSource = { path: string } | { bytes: Uint8Array };

export interface ImageStore {
  readonly kind: StorageConfig["kind"];
  /** Where the generator writes this batch's files on this machine. */
  localDir(batchId: string): string;
  /**
   * Stores one file of a batch. An image is written once: storing the same
   * bytes again is a no-op, different bytes under a taken name are refused.
   * `replace` (the manifest) overwrites. A `path` source is moved: after a
   * successful put nothing of it is left outside the store.
   */
  put(
    batchId: string,
    fileName: string,
    source: PutSource,
    sha256: string,
    options?: { replace?: boolean },
  ): Promise<void>;
  /** Opens a stored file for streaming; undefined when there is none. */
  get(batchId: string, fileName: string): Promise<StoredFile | undefined>;
  /** Removes every file of the batch (and its local folder). */
  remove(batchId: string): Promise<void>;
  /** The names of the batch's stored files. */
  list(batchId: string): Promise<string[]>;
  /** Throws when the store cannot be reached (for /readyz). */
  check(): Promise<void>;
}

/** A store refused or failed an operation; the message holds no secret. */
export class ImageStoreError extends Error {
  override name = "ImageStoreError";
}

/** The only names a store accepts: a safe batch id, an image name or the manifest. */
export function assertStorableName(batchId: string, fileName: string): void {
  if (!isSafeBatchId(batchId)) {
    throw new ImageStoreError("Not a batch id that can name a folder");
  }
  if (fileName !== MANIFEST_NAME && !IMAGE_FILE_NAME.test(fileName)) {
    throw new ImageStoreError(`Not a file name a batch stores: ${fileName}`);
  }
}

/** Images under `imagesDir/<batchId>/`, written atomically (today's behaviour). */
export class LocalImageStore implements ImageStore {
  readonly kind = "local";
  constructor(readonly imagesDir: string) {}

  localDir(batchId: string): string {
    return join(this.imagesDir, batchId);
  }

  async put(
    batchId: string,
    fileName: string,
    source: PutSource,
    _sha256: string,
    _options: { replace?: boolean } = {},
  ): Promise<void> {
    assertStorableName(batchId, fileName);
    const dir = this.localDir(batchId);
    const target = join(dir, fileName);
    if ("path" in source) {
      // The generator wrote it in place: nothing to move.
      if (resolve(source.path) === resolve(target)) return;
      await Deno.mkdir(dir, { recursive: true });
      await Deno.rename(source.path, target).catch(async () => {
        // Another filesystem: copy atomically, then drop the source.
        await writeFileAtomic(dir, fileName, await Deno.readFile(source.path));
        await Deno.remove(source.path);
      });
      return;
    }
    await Deno.mkdir(dir, { recursive: true });
    await writeFileAtomic(dir, fileName, source.bytes);
  }

  async get(batchId: string, fileName: string) {
    return await openLocal(this.localDir(batchId), batchId, fileName);
  }

  async remove(batchId: string): Promise<void> {
    if (!isSafeBatchId(batchId)) return;
    await removeDir(this.localDir(batchId));
  }

  async list(batchId: string): Promise<string[]> {
    if (!isSafeBatchId(batchId)) return [];
    return await localNames(this.localDir(batchId));
  }

  async check(): Promise<void> {
    const info = await Deno.stat(this.imagesDir);
    if (!info.isDirectory) {
      throw new ImageStoreError("The images folder is not a folder");
    }
  }
}

/** Opens `dir/fileName` for streaming, or undefined when it is not there. */
export async function openLocal(
  dir: string,
  batchId: string,
  fileName: string,
): Promise<StoredFile | undefined> {
  try {
    assertStorableName(batchId, fileName);
  } catch {
    return undefined;
  }
  let file: Deno.FsFile;
  try {
    file = await Deno.open(join(dir, fileName), { read: true });
  } catch {
    return undefined;
  }
  try {
    const info = await file.stat();
    if (!info.isFile) throw new Error("not a file");
    return { body: file.readable, size: info.size };
  } catch {
    file.close();
    return undefined;
  }
}

/** The plain (non-temp) file names in `dir`; none when it is missing. */
export async function localNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && !isTempFileName(entry.name)) names.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

/** Removes a folder and everything in it; a missing one is fine. */
export async function removeDir(dir: string): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  });
}
