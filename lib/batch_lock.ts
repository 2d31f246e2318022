/**
 * The per-batch generator lock: `<dataDir>/locks/<batchId>.lock`, held (an
 * exclusive file lock) by the generator process for its whole life. It
 * outlives the server that started the generator: a generator orphaned by a
 * server killed with SIGKILL keeps it while it finishes the requests it had
 * in flight (paid for already) and saves their images, and the OS lets it go
 * when that process exits. A restarted server's recovery leaves a locked
 * batch alone (its files are still being written) and its Resume refuses
 * while the lock is held, so nothing races the orphan or pays twice.
 */
import { join } from "node:path";

/** Where the generator locks of a data dir live. */
export function locksDir(dataDir: string): string {
  return join(dataDir, "locks");
}

/** The lock file of one batch's generator. */
export function batchLockPath(dataDir: string, batchId: string): string {
  return join(locksDir(dataDir), `${encodeURIComponent(batchId)}.lock`);
}

/**
 * Takes the lock for this process's life (the generator's side); throws
 * when another live generator of the batch holds it.
 */
export async function holdBatchLock(path: string): Promise<Deno.FsFile> {
  const file = await Deno.open(path, {
    read: true,
    write: true,
    create: true,
  });
  if (!await file.tryLock(true).catch(() => false)) {
    file.close();
    throw new Error("another generator of this batch is still running");
  }
  return file;
}

/**
 * Whether no generator holds the batch's lock, polling up to `waitMs`. Never
 * keeps the lock: the caller holds the batch through its run lease and
 * starts the next generator, which takes it.
 */
export async function batchLockFree(
  dataDir: string,
  batchId: string,
  waitMs = 0,
): Promise<boolean> {
  const path = batchLockPath(dataDir, batchId);
  const deadline = Date.now() + waitMs;
  while (true) {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true, write: true });
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return true;
      throw error;
    }
    try {
      if (await file.tryLock(true).catch(() => false)) return true;
    } finally {
      file.close();
    }
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
