/**
 * Solid-colour PNGs encoded by hand (IHDR, IDAT via CompressionStream, IEND),
 * cached as base64 because tests and benchmarks ask for the same few again
 * and again.
 */
import { Buffer } from "node:buffer";

const SIGNATURE = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
const CRC_TABLE = makeCrcTable();
/** Bound on cached base64 text, so 4K or padded images cannot grow without limit. */
const CACHE_LIMIT_CHARS = 256 * 1024 * 1024;
/** Rows handed to the compressor per write; big enough to keep writes few. */
const BLOCK_BYTES = 1 << 20;

/** An RGB colour, 0..255 per channel. */
export type Rgb = readonly [number, number, number];

/** What `readPngInfo` finds in a PNG's IHDR. */
export interface PngInfo {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
}

interface CacheEntry {
  data: Promise<string>;
  chars: number;
}

// Module-level on purpose: several fakes in one test run share the encodings.
const cache = new Map<string, CacheEntry>();
const padCache = new Map<number, Uint8Array>();
let cachedChars = 0;

function makeCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** CRC-32 as PNG chunks use it (ISO 3309, reflected, 0xEDB88320). */
export function crc32(bytes: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const typeBytes = new TextEncoder().encode(type);
  out.set(typeBytes, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** zlib stream of a solid image: first row uses the Sub filter, the rest Up, so all but a few bytes are zeros. */
async function deflateSolid(width: number, height: number, rgb: Rgb) {
  const rowLength = 1 + width * 3;
  const first = new Uint8Array(rowLength);
  first[0] = 1;
  first.set(rgb, 1);
  const rowsPerBlock = Math.max(1, Math.floor(BLOCK_BYTES / rowLength));
  const block = new Uint8Array(rowLength * rowsPerBlock);
  for (let row = 0; row < rowsPerBlock; row++) block[row * rowLength] = 2;

  const stream = new CompressionStream("deflate");
  const compressed = new Response(stream.readable).arrayBuffer();
  const writer = stream.writable.getWriter();
  await writer.write(first);
  // The block is never modified after this point, so writing it repeatedly is safe.
  for (let left = height - 1; left > 0; left -= rowsPerBlock) {
    const rows = Math.min(left, rowsPerBlock);
    await writer.write(block.subarray(0, rows * rowLength));
  }
  await writer.close();
  return new Uint8Array(await compressed);
}

function padding(size: number): Uint8Array {
  const hit = padCache.get(size);
  if (hit) return hit;
  const bytes = new Uint8Array(size);
  // getRandomValues fills at most 64 KiB per call.
  for (let at = 0; at < size; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, Math.min(size, at + 65536)));
  }
  padCache.clear(); // one padding size at a time is what benchmarks use
  padCache.set(size, bytes);
  return bytes;
}

/** Encodes a solid-colour RGB PNG; `targetBytes` pads it with a private ancillary chunk of noise. */
export async function encodePng(
  width: number,
  height: number,
  rgb: Rgb,
  targetBytes = 0,
): Promise<Uint8Array> {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type RGB
  const parts = [
    SIGNATURE,
    chunk("IHDR", header),
    chunk("IDAT", await deflateSolid(width, height, rgb)),
  ];
  const plain = parts.reduce((sum, p) => sum + p.length, 0) + 12;
  // "npAd": ancillary, private, safe to copy, so every decoder skips it.
  if (targetBytes > plain + 12) {
    parts.push(chunk("npAd", padding(targetBytes - plain - 12)));
  }
  parts.push(chunk("IEND", new Uint8Array(0)));
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Base64 of `encodePng(...)`, cached by size, colour and padding. */
export function pngBase64(
  width: number,
  height: number,
  rgb: Rgb,
  targetBytes = 0,
): Promise<string> {
  const key = `${width}x${height}:${rgb.join(",")}:${targetBytes}`;
  const hit = cache.get(key);
  if (hit) {
    // Re-insert so eviction drops the least recently used first.
    cache.delete(key);
    cache.set(key, hit);
    return hit.data;
  }
  const entry: CacheEntry = {
    data: encodePng(width, height, rgb, targetBytes).then((bytes) =>
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
        .toString("base64")
    ),
    chars: 0,
  };
  cache.set(key, entry);
  entry.data.then((text) => {
    if (cache.get(key) !== entry) return;
    entry.chars = text.length;
    cachedChars += text.length;
    evict();
  }, () => cache.delete(key));
  return entry.data;
}

function evict() {
  for (const [key, entry] of cache) {
    if (cachedChars <= CACHE_LIMIT_CHARS || cache.size <= 1) return;
    cache.delete(key);
    cachedChars -= entry.chars;
  }
}

/** Reads size and format from a PNG's IHDR; throws TypeError when it is not a PNG. */
export function readPngInfo(bytes: Uint8Array): PngInfo {
  const isPng = bytes.length >= 33 &&
    SIGNATURE.every((b, i) => bytes[i] === b) &&
    new TextDecoder().decode(bytes.subarray(12, 16)) === "IHDR";
  if (!isPng) throw new TypeError("Cannot read PNG header: not a PNG file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    width: view.getUint32(16),
    height: view.getUint32(20),
    bitDepth: bytes[24]!,
    colourType: bytes[25]!,
  };
}
