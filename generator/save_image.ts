/**
 * Writes one generated image into the job's output directory and describes
 * it for the `image-saved` event (name, size, hash, pixel dimensions).
 */
import type { JobItem, SavedImage } from "../core/protocol.ts";
import { imageDimensions, sniffMimeType } from "../lib/image_info.ts";
import { sha256Hex, writeFileAtomic } from "../lib/storage.ts";
import { extensionForMimeType, imageFileName } from "../core/files.ts";

export type { SavedImage };

/**
 * Google sent an image in a format BatchGen does not store. Writing it under
 * some other extension would record a file that the /images route, the ZIP
 * and crash recovery all refuse, so the item fails as `storage` instead.
 */
export class UnsupportedImageTypeError extends Error {
  override name = "UnsupportedImageTypeError";
  constructor(readonly mimeType: string) {
    super(`Google returned an image type BatchGen cannot store: ${mimeType}`);
  }
}

/** Writes `bytes` atomically as `<position>-<imageIndex>.<ext>` in `dir`. */
export async function saveImage(
  dir: string,
  item: JobItem,
  image: { bytes: Uint8Array; mimeType: string },
): Promise<SavedImage> {
  const { bytes } = image;
  // Trust Google's MIME type; fall back to the magic bytes when it is absent.
  const mimeType = image.mimeType || sniffMimeType(bytes) || "unknown";
  const extension = extensionForMimeType(mimeType);
  if (!extension) throw new UnsupportedImageTypeError(mimeType);
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
