/**
 * The `contents` of an image + text request (gemini-api.md §2.2): reference
 * images as `inlineData` (bytes in every request) or `fileData` (a file
 * uploaded once per run, files.ts), then the prompt.
 */
import type { UploadedFile } from "./files.ts";

/** One reference image as a request part. */
export type ReferencePart =
  | { inlineData: { mimeType: string; data: string /* base64 */ } }
  | { fileData: { mimeType: string; fileUri: string } };

/** A part of an image + text request; assignable to the SDK's `Part`. */
export type RequestPart = ReferencePart | { text: string };

/** A part that carries the image's bytes in the request, base64. */
export function inlineReference(
  bytes: Uint8Array,
  mimeType: string,
): ReferencePart {
  return { inlineData: { mimeType, data: bytes.toBase64() } };
}

/** A part that names a file uploaded through the Files API. */
export function fileReference(file: UploadedFile): ReferencePart {
  return { fileData: { mimeType: file.mimeType, fileUri: file.uri } };
}

/**
 * Image parts before the text, per Google's docs: the model reads the
 * prompt as being about the images above it. Parts are copied, so a caller
 * reusing `references` across requests shares no objects with a request.
 */
export function requestContents(
  prompt: string,
  references: readonly ReferencePart[],
): { role: "user"; parts: RequestPart[] }[] {
  const images = references.map((part): ReferencePart =>
    "inlineData" in part
      ? { inlineData: { ...part.inlineData } }
      : { fileData: { ...part.fileData } }
  );
  return [{ role: "user", parts: [...images, { text: prompt }] }];
}
