/**
 * Image files on disk. Every file is written to a temporary name in the same
 * directory and renamed into place, so a reader (or a crash) never sees a
 * half-written image: a name either is absent or holds the whole file.
 */
import { join } from "node:path";

const TEMP_NAME = /^\..+\.tmp-[0-9a-f]{16}$/;

/** Whether `name` is a temporary file left by `writeFileAtomic`. */
export function isTempFileName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/**
 * Writes `bytes` to `dir/name` atomically (temp file in `dir`, then rename)
 * and returns the final path. The temp file is removed if anything fails.
 */
export async function writeFileAtomic(
  dir: string,
  name: string,
  bytes: Uint8Array,
): Promise<string> {
  if (name.includes("/") || name.includes("\\") || name.startsWith(".")) {
    throw new TypeError(`Cannot write file "${name}": not a plain file name`);
  }
  const target = join(dir, name);
  // Same directory as the target: rename is atomic only within a filesystem.
  const temp = join(dir, `.${name}.tmp-${randomHex(8)}`);
  try {
    await Deno.writeFile(temp, bytes, { createNew: true, mode: 0o644 });
    await Deno.rename(temp, target);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  return target;
}

/**
 * A fresh temp file path in `dir` (a name `removeTempFiles` cleans up), for
 * a file written elsewhere and later moved into place by `moveFileAtomic`.
 */
export function tempFilePath(dir: string, label = "image"): string {
  return join(dir, `.${label}.tmp-${randomHex(8)}`);
}

/**
 * Moves the finished file `from` (in `dir`'s filesystem, e.g. a
 * `tempFilePath`) to `dir/name` with one rename: atomic, like
 * `writeFileAtomic`. `from` is removed if the rename fails.
 */
export async function moveFileAtomic(
  from: string,
  dir: string,
  name: string,
): Promise<string> {
  if (name.includes("/") || name.includes("\\") || name.startsWith(".")) {
    throw new TypeError(`Cannot write file "${name}": not a plain file name`);
  }
  const target = join(dir, name);
  try {
    await Deno.chmod(from, 0o644).catch(() => {});
    await Deno.rename(from, target);
  } catch (error) {
    await Deno.remove(from).catch(() => {});
    throw error;
  }
  return target;
}

/** Hex SHA-256 of a file, read in chunks (never whole in memory). */
export async function sha256FileHex(path: string): Promise<string> {
  // Loaded on first use: node:crypto costs start-up time nobody needs
  // before the first image.
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(256 * 1024);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) break;
    hash.update(buffer.subarray(0, n));
  }
  return hash.digest("hex");
}

/** Removes temp files left in `dir` by interrupted writes; returns how many. */
export async function removeTempFiles(dir: string): Promise<number> {
  let removed = 0;
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || !isTempFileName(entry.name)) continue;
      await Deno.remove(join(dir, entry.name)).then(
        () => removed++,
        () => {},
      );
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return removed;
}

/** Hex SHA-256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    bytes as Uint8Array<ArrayBuffer>,
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

function randomHex(byteCount: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(byteCount));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
