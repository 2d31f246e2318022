/**
 * An independent PNG decoder for 8-bit RGB files, so tests can prove an image
 * really decodes (CRCs, zlib stream, filters) instead of trusting its header.
 */
import { crc32, readPngInfo } from "./png.ts";

/** A decoded 8-bit RGB PNG. */
export interface DecodedPng {
  width: number;
  height: number;
  /** Chunk types in file order. */
  chunks: string[];
  /** width × height × 3 bytes, row by row. */
  pixels: Uint8Array;
}

async function inflate(parts: Uint8Array[]): Promise<Uint8Array> {
  const stream = new Blob(parts as BlobPart[]).stream()
    .pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function unfilter(raw: Uint8Array, width: number, height: number): Uint8Array {
  const stride = width * 3;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    for (let x = 0; x < stride; x++) {
      const left = x >= 3 ? out[y * stride + x - 3]! : 0;
      const up = y > 0 ? out[(y - 1) * stride + x]! : 0;
      const corner = x >= 3 && y > 0 ? out[(y - 1) * stride + x - 3]! : 0;
      const value = raw[src + x]!;
      const predictor = filter === 1
        ? left
        : filter === 2
        ? up
        : filter === 3
        ? (left + up) >> 1
        : filter === 4
        ? paeth(left, up, corner)
        : 0;
      out[y * stride + x] = (value + predictor) & 255;
    }
  }
  return out;
}

/** Decodes an 8-bit RGB PNG fully; throws TypeError on any corruption. */
export async function decodePng(bytes: Uint8Array): Promise<DecodedPng> {
  const info = readPngInfo(bytes);
  if (info.bitDepth !== 8 || info.colourType !== 2) {
    throw new TypeError("Cannot decode PNG: only 8-bit RGB is supported");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: string[] = [];
  const idat: Uint8Array[] = [];
  let at = 8;
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    if (at + 12 + length > bytes.length) {
      throw new TypeError(`Cannot decode PNG: chunk ${type} is truncated`);
    }
    if (
      crc32(bytes.subarray(at + 4, at + 8 + length)) !==
        view.getUint32(at + 8 + length)
    ) {
      throw new TypeError(`Cannot decode PNG: bad CRC in chunk ${type}`);
    }
    chunks.push(type);
    if (type === "IDAT") idat.push(bytes.subarray(at + 8, at + 8 + length));
    at += 12 + length;
    if (type === "IEND") break;
  }
  if (chunks.at(-1) !== "IEND") {
    throw new TypeError("Cannot decode PNG: no IEND chunk");
  }
  const raw = await inflate(idat);
  if (raw.length !== (1 + info.width * 3) * info.height) {
    throw new TypeError(
      `Cannot decode PNG: image data has ${raw.length} bytes`,
    );
  }
  return {
    width: info.width,
    height: info.height,
    chunks,
    pixels: unfilter(raw, info.width, info.height),
  };
}

/** RGB of one pixel of a decoded image. */
export function pixelAt(
  png: DecodedPng,
  x: number,
  y: number,
): [number, number, number] {
  const at = (y * png.width + x) * 3;
  return [png.pixels[at]!, png.pixels[at + 1]!, png.pixels[at + 2]!];
}
