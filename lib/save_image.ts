/**
 * Writes one generated image into the job's output directory and describes
 * it for the `image-saved` event (name, size, hash, pixel dimensions).
 */
import type { JobItem, SavedImage } from "../core/protocol.ts";
import { imageDimensions, sniffMimeType } from "./image_info.ts";
import {
  moveFileAtomic,
  sha256FileHex,
  sha256Hex,
  writeFileAtomic,
} from "./storage.ts";
import {
  extensionForMimeType,
  imageFileName,
  mimeTypeOf,
} from "../core/files.ts";

export type { SavedImage };

/**
 * Google sent an image in a format BatchGen does not store. Writing it under
 * some other extension would record a file that the /images route, the ZIP
 * and crash recovery all refuse, so the item fails as `storage` instead.
 */
export class UnsupportedImageTypeError extends Error {
  override name = "UnsupportedImageTypeError";
  constructor(readonly mimeType: string) {
    // Upstream text: only the characters a media type is made of, shortened.
    super(
      `Google returned an image type BatchGen cannot store: ${
        mimeType.replace(/[^\w.+/-]/g, "").slice(0, 60) || "unknown"
      }`,
    );
  }
}

/** Writes `bytes` atomically as `<position>-<imageIndex>.<ext>` in `dir`. */
export async function saveImage(
  dir: string,
  item: JobItem,
  image: { bytes: Uint8Array; mimeType: string },
): Promise<SavedImage> {
  const { bytes } = image;
  // The bytes decide, not the label Google put on them: only a PNG, JPEG or
  // WebP is stored, and it is served under its own type, whatever was said.
  const sniffed = sniffMimeType(bytes);
  const extension = sniffed ? extensionForMimeType(sniffed) : undefined;
  if (!sniffed || !extension) {
    throw new UnsupportedImageTypeError(image.mimeType || "unknown");
  }
  const mimeType = mimeTypeOf(extension);
  const fileName = imageFileName(item.position, item.imageIndex, extension);
  const [sha256] = await Promise.all([
    sha256Hex(bytes),
    writeFileAtomic(dir, fileName, bytes),
  ]);
  const size = imageDimensions(bytes);
  return {
    fileName,
    mimeType,
    bytes: bytes.length,
    sha256,
    ...(size ?? {}),
  };
}

// Enough of a file's head for its type and pixel size (a JPEG's frame
// header can follow large metadata segments).
const HEAD_BYTES = 512 * 1024;

/**
 * `saveImage` for an image already written to `tempPath` (a streamed
 * answer, decoded into a temp file in `dir`): the same checks on the bytes,
 * the same name, then one rename into place. The temp file is gone
 * afterwards whatever happened.
 */
export async function saveImageFile(
  dir: string,
  item: JobItem,
  image: { path: string; mimeType: string },
): Promise<SavedImage> {
  try {
    const { size: bytes } = await Deno.stat(image.path);
    const head = new Uint8Array(Math.min(HEAD_BYTES, bytes));
    {
      using file = await Deno.open(image.path, { read: true });
      let at = 0;
      while (at < head.length) {
        const n = await file.read(head.subarray(at));
        if (n === null) break;
        at += n;
      }
    }
    const sniffed = sniffMimeType(head);
    const extension = sniffed ? extensionForMimeType(sniffed) : undefined;
    if (!sniffed || !extension) {
      throw new UnsupportedImageTypeError(image.mimeType || "unknown");
    }
    const mimeType = mimeTypeOf(extension);
    const fileName = imageFileName(item.position, item.imageIndex, extension);
    const sha256 = await sha256FileHex(image.path);
    const size = imageDimensions(head);
    await moveFileAtomic(image.path, dir, fileName);
    return { fileName, mimeType, bytes, sha256, ...(size ?? {}) };
  } finally {
    await Deno.remove(image.path).catch(() => {});
  }
}
