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
