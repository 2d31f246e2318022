/**
 * Writes one generated image into the job's output directory and describes
 * it for the `image-saved` event (name, size, hash, pixel dimensions).
 */
import type { JobItem } from "./protocol.ts";
import {
  extensionForMimeType,
  imageDimensions,
  sniffMimeType,
} from "../lib/image_info.ts";
import { imageFileName, sha256Hex, writeFileAtomic } from "../lib/storage.ts";

/** What the `image-saved` event reports about a written file. */
export interface SavedImage {
  fileName: string;
  mimeType: string;
  bytes: number;
  sha256: string;
  width?: number;
  height?: number;
}

/** Writes `bytes` atomically as `<position>-<imageIndex>.<ext>` in `dir`. */
export async function saveImage(
  dir: string,
  item: JobItem,
  image: { bytes: Uint8Array; mimeType: string },
): Promise<SavedImage> {
  const { bytes } = image;
  // Trust Google's MIME type; fall back to the magic bytes when it is absent.
  const mimeType = image.mimeType || sniffMimeType(bytes) ||
    "application/octet-stream";
  const fileName = imageFileName(
    item.position,
    item.imageIndex,
    extensionForMimeType(mimeType),
  );
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
