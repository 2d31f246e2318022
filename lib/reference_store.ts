/**
 * Reference images on disk: what an upload must be (PNG, JPEG or WebP by its
 * bytes, not its name; at most `LIMITS.referenceBytes`), and where its bytes
 * live. Files are named by their SHA-256, so the same picture uploaded twice,
 * by anyone, is stored once, and a stored file never changes.
 */
import { join } from "node:path";
import { LIMITS } from "../core/limits.ts";
import { refuse, type Result } from "../core/result.ts";
import { extensionForMimeType, type ImageMimeType } from "../core/files.ts";
import { imageDimensions, sniffMimeType } from "./image_info.ts";
import { sha256Hex, writeFileAtomic } from "./storage.ts";

/** The facts of an uploaded image that passed the checks. */
export interface CheckedReference {
  /** A safe display name: no path, no control characters, ≤ 120 characters. */
  name: string;
  mimeType: ImageMimeType;
  bytes: number;
  sha256: string;
  width: number | null;
  height: number | null;
}

const NAME_CHARS = 120;
const SHA256 = /^[0-9a-f]{64}$/;
// C0/C1 controls, and the bidi and zero-width format characters that can make
// a shown name read differently from what it is ("gpj.exe" → "exe.jpg").
const UNSAFE_CHARS =
  // deno-lint-ignore no-control-regex
  /[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * Checks one uploaded file: not empty, at most `LIMITS.referenceBytes`, and
 * PNG, JPEG or WebP by its magic bytes (a renamed `.exe` is refused). The
 * refusal names the file, so a form or script knows which one to replace.
 */
export async function checkReferenceImage(
  name: string,
  bytes: Uint8Array,
): Promise<Result<CheckedReference>> {
  const shown = referenceName(name);
  if (bytes.length === 0) {
    return refuse("invalid_input", `${shown} is empty.`);
  }
  // Before hashing: an oversized file is refused without reading it twice.
  if (bytes.length > LIMITS.referenceBytes) {
    return refuse(
      "invalid_input",
      `${shown} is ${
        megabytes(bytes.length)
      }; a reference image can be at most ${LIMITS.referenceBytes / 1e6} MB.`,
    );
  }
  const mimeType = sniffMimeType(bytes);
  if (!mimeType) {
    return refuse(
      "invalid_input",
      `${shown} is not a PNG, JPEG or WebP image.`,
    );
  }
  const size = imageDimensions(bytes);
  return {
    ok: true,
    value: {
      name: shown,
      mimeType,
      bytes: bytes.length,
      sha256: await sha256Hex(bytes),
      width: size?.width ?? null,
      height: size?.height ?? null,
    },
  };
}

/**
 * An uploaded file's name made safe to show and store: its last path part
 * (browsers and curl may send a whole path), without control or bidi
 * characters, at most 120 characters with its extension kept.
 */
export function referenceName(name: string): string {
  const base = name.normalize("NFC").split(/[\\/]/).pop() ?? "";
  const clean = base.replace(UNSAFE_CHARS, "").trim();
  // Code points, not UTF-16 units: a cut never splits an emoji in two.
  const chars = Array.from(clean);
  if (chars.length === 0) return "image";
  if (chars.length <= NAME_CHARS) return clean;
  const dot = clean.lastIndexOf(".");
  const extension = dot > 0 ? Array.from(clean.slice(dot)) : [];
  if (extension.length === 0 || extension.length > 10) {
    return chars.slice(0, NAME_CHARS).join("");
  }
  const stem = chars.slice(0, chars.length - extension.length);
  return [...stem.slice(0, NAME_CHARS - extension.length), ...extension]
    .join("");
}

/** Where the bytes of the image with this hash and type are kept. */
export function referencePath(
  dir: string,
  sha256: string,
  mimeType: string,
): string {
  return join(dir, referenceFileName(sha256, mimeType));
}

function referenceFileName(sha256: string, mimeType: string): string {
  const extension = extensionForMimeType(mimeType);
  // Both parts end up in a path: only a real hash and a stored type do.
  if (!SHA256.test(sha256) || !extension) {
    throw new TypeError(
      `Cannot name reference file: bad hash or type "${mimeType}"`,
    );
  }
  return `${sha256}.${extension}`;
}

/**
 * Stores an image's bytes under its hash, once: an existing file already
 * holds exactly these bytes, so it is kept. Returns the file's path.
 */
export async function storeReferenceBytes(
  dir: string,
  sha256: string,
  mimeType: ImageMimeType,
  bytes: Uint8Array,
): Promise<string> {
  const name = referenceFileName(sha256, mimeType);
  const path = join(dir, name);
  if (await isFile(path)) return path;
  await Deno.mkdir(dir, { recursive: true });
  // Two uploads of the same picture at once both rename into place; the
  // content is the same, so whichever lands last changes nothing.
  return await writeFileAtomic(dir, name, bytes);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** `31.5 MB`: rounded up, so a file just over the limit never reads as on it. */
function megabytes(bytes: number): string {
  return `${(Math.ceil(bytes / 1e5) / 10).toFixed(1)} MB`;
}
