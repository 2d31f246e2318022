/**
 * The names of a batch's files, in one place: image file names (what the
 * generator writes, the /images route serves, the ZIP holds and crash
 * recovery reads back), the manifest's name, and which batch ids are safe to
 * use as a folder name.
 */

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

/** The manifest file next to a batch's images. */
export const MANIFEST_NAME = "manifest.json";

/**
 * The generator's note of each image's usage (tokens), one `usage` event
 * per line, in the batch's folder: should the event not reach the server
 * (it died, or killed the generator the moment an image was saved), the
 * image is adopted from its file and its cost from here. No key in it.
 */
export const USAGE_JOURNAL_NAME = "usage.jsonl";

const SAFE_BATCH_ID = /^[a-z0-9]{10,64}$/;

/** Whether a batch id can name a folder (no dots, slashes or odd characters). */
export function isSafeBatchId(id: string): boolean {
  return SAFE_BATCH_ID.test(id);
}

// Record<ImageExtension, …> makes a new stored extension fail to type-check
// until it has a MIME type here.
const MIME_TYPES: Record<ImageExtension, ImageMimeType> = {
  png: "image/png",
  jpg: "image/jpeg",
  webp: "image/webp",
};

/** The media types BatchGen stores and serves, one per extension. */
export const IMAGE_MIME_TYPES = [
  "image/png",
  "image/jpeg",
  "image/webp",
] as const;

/** One of `IMAGE_MIME_TYPES`. */
export type ImageMimeType = typeof IMAGE_MIME_TYPES[number];

/** The MIME type of a stored extension. */
export function mimeTypeOf(
  extension: ImageExtension,
): ImageMimeType {
  return MIME_TYPES[extension];
}

/**
 * The stored extension for an image MIME type, or undefined when BatchGen
 * does not store that type (the caller must not invent one).
 */
export function extensionForMimeType(
  mimeType: string,
): ImageExtension | undefined {
  const type = mimeType.toLowerCase().split(";")[0]!.trim();
  // `image/jpg` is not registered, but some encoders send it.
  if (type === "image/jpg") return "jpg";
  return IMAGE_EXTENSIONS.find((extension) => MIME_TYPES[extension] === type);
}
