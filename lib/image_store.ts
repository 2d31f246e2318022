/**
 * Where a batch's finished images (and its manifest) live: the data dir
 * (`imagesDir/<batchId>/<file>`, today's behaviour) or an S3-compatible
 * bucket (`prefix/<batchId>/<file>`: AWS S3, Cloudflare R2, MinIO).
 *
 * The generator is a separate process and always writes into a local folder,
 * `localDir(batchId)`. The server then hands each saved image to `put`: the
 * local store keeps the file where it is; the S3 store uploads it once (with
 * its sha256) and removes the local copy. Serving, the ZIP, the manifest and
 * deletion all go through the store, so no caller needs to know which it is.
 */
import { isAbsolute, resolve } from "node:path";
import type { StorageConfig } from "../core/config.ts";
import { type ImageStore, LocalImageStore } from "./image_store_local.ts";
import { S3ImageStore } from "./image_store_s3.ts";

export {
  assertStorableName,
  type ImageStore,
  ImageStoreError,
  LocalImageStore,
  localNames,
  type PutSource,
  type StoredFile,
} from "./image_store_local.ts";
export { S3ImageStore } from "./image_store_s3.ts";

/** The store a configuration names (no I/O). */
export function createImageStore(
  config: { imagesDir: string; storage?: StorageConfig },
): ImageStore {
  const storage = config.storage ?? { kind: "local" };
  return storage.kind === "s3"
    ? new S3ImageStore(storage, config.imagesDir)
    : new LocalImageStore(config.imagesDir);
}

/**
 * One store per images dir in this process. `imageStoreFor(config)` makes (or
 * returns) the configured store and remembers it under `config.imagesDir`, so
 * code that is handed only that dir (`imageStoreAt`) finds the same store.
 */
const stores = new Map<string, { storage: StorageConfig; store: ImageStore }>();

/**
 * The configured store for `config`, made once per images dir and
 * configuration. Without `storage` (settings picked without it) it is the
 * store already configured for that dir: never a silent switch to local.
 */
export function imageStoreFor(
  config: { imagesDir: string; storage?: StorageConfig },
): ImageStore {
  const { storage } = config;
  if (!storage) return imageStoreAt(config.imagesDir);
  const key = keyOf(config.imagesDir);
  const known = stores.get(key);
  if (known && sameStorage(known.storage, storage)) return known.store;
  const store = createImageStore({ imagesDir: config.imagesDir, storage });
  stores.set(key, { storage, store });
  return store;
}

/**
 * The store registered for `imagesDir` by `imageStoreFor`; without one, the
 * local store (today's behaviour).
 */
export function imageStoreAt(imagesDir: string): ImageStore {
  return stores.get(keyOf(imagesDir))?.store ??
    new LocalImageStore(imagesDir);
}

function keyOf(imagesDir: string): string {
  return isAbsolute(imagesDir) ? imagesDir : resolve(imagesDir);
}

function sameStorage(a: StorageConfig, b: StorageConfig): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  if (a.kind === "local" || b.kind === "local") return true;
  return a.bucket === b.bucket && a.prefix === b.prefix &&
    a.endpoint === b.endpoint && a.region === b.region &&
    a.forcePathStyle === b.forcePathStyle &&
    a.accessKeyId === b.accessKeyId &&
    a.secretAccessKey === b.secretAccessKey;
}
