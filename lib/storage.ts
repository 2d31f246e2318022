/**
 * Image files on disk. Every file is written to a temporary name in the same
 * directory and renamed into place, so a reader (or a crash) never sees a
 * half-written image: a name either is absent or holds the whole file.
 */
import { join } from "node:path";

const TEMP_NAME = /^\..+\.tmp-[0-9a-f]{16}$/;

/**
 * The image formats BatchGen stores. The /images route, the ZIP, recovery and
 * the generator protocol accept exactly these, so a saved file is never one
 * that cannot be served, zipped or recovered.
 */
export const IMAGE_EXTENSIONS = ["png", "jpg", "webp"] as const;

/** One of `IMAGE_EXTENSIONS`. */
export type ImageExtension = typeof IMAGE_EXTENSIONS[number];

/**
 * Exactly the names `imageFileName` writes: the 1-based position padded to
 * four digits (more digits only without a leading zero), a dash, the 1-based
 * image index, a stored extension. Nothing else can match, so a name that
 * passes is safe to join to a directory.
 */
export const IMAGE_FILE_NAME = new RegExp(
  `^((?!0000)\\d{4}|[1-9]\\d{4,})-([1-9]\\d*)\\.(${
    IMAGE_EXTENSIONS.join("|")
  })$`,
);

/** What an image file name says about its image. */
export interface ImageFileNameParts {
  /** 0-based prompt position. */
  position: number;
  /** 0-based image index within the prompt. */
  imageIndex: number;
  extension: ImageExtension;
}

/** The name of one image slot without extension: `0003-1` (1-based). */
export function imageStem(position: number, imageIndex: number): string {
  return `${String(position + 1).padStart(4, "0")}-${imageIndex + 1}`;
}

/** The file name of one generated image: `0003-1.png` (1-based). */
export function imageFileName(
  position: number,
  imageIndex: number,
  extension: ImageExtension,
): string {
  return `${imageStem(position, imageIndex)}.${extension}`;
}

/** Reads an image file name back (inverse of `imageFileName`); else undefined. */
export function parseImageFileName(
  name: string,
): ImageFileNameParts | undefined {
  const match = IMAGE_FILE_NAME.exec(name);
  if (!match) return undefined;
  const position = Number(match[1]) - 1;
  const imageIndex = Number(match[2]) - 1;
  if (!Number.isSafeInteger(position) || !Number.isSafeInteger(imageIndex)) {
    return undefined;
  }
  return { position, imageIndex, extension: match[3] as ImageExtension };
}

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
