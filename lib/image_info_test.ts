import assert from "node:assert/strict";
import { imageDimensions, sniffMimeType } from "./image_info.ts";
import { extensionForMimeType } from "../core/files.ts";

function concat(...parts: (number[] | Uint8Array | string)[]): Uint8Array {
  const arrays = parts.map((p) =>
    typeof p === "string"
      ? new TextEncoder().encode(p)
      : p instanceof Uint8Array
      ? p
      : new Uint8Array(p)
  );
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

const be32 = (
  n: number,
) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const be16 = (n: number) => [(n >>> 8) & 255, n & 255];
const le16 = (n: number) => [n & 255, (n >>> 8) & 255];
const le24 = (n: number) => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255];
const le32 = (n: number) => [...le16(n & 0xffff), ...le16(n >>> 16)];

function png(width: number, height: number): Uint8Array {
  return concat(
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    be32(13),
    "IHDR",
    be32(width),
    be32(height),
    [8, 2, 0, 0, 0],
    [0, 0, 0, 0], // CRC: not checked
    be32(0),
    "IEND",
    [0xae, 0x42, 0x60, 0x82],
  );
}

function segment(marker: number, body: number[]): number[] {
  return [0xff, marker, ...be16(body.length + 2), ...body];
}

function jpeg(width: number, height: number, sof = 0xc0): Uint8Array {
  return concat(
    [0xff, 0xd8],
    segment(0xe0, [
      ...new TextEncoder().encode("JFIF\0"),
      1,
      1,
      0,
      0,
      1,
      0,
      1,
      0,
      0,
    ]),
    segment(0xdb, new Array(65).fill(1)), // DQT
    segment(0xc4, new Array(20).fill(0)), // DHT shares the SOF range: skip it
    [0xff, 0xff], // fill byte before a marker
    segment(sof, [
      8,
      ...be16(height),
      ...be16(width),
      3,
      1,
      0x22,
      0,
      2,
      0x11,
      1,
      3,
      0x11,
      1,
    ]),
    segment(0xda, [3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]),
    [0x12, 0x34, 0xff, 0xd9],
  );
}

function webp(chunk: string, data: number[]): Uint8Array {
  const body = concat("WEBP", chunk, le32(data.length), data);
  return concat("RIFF", le32(body.length), body);
}

Deno.test("imageDimensions() reads a PNG IHDR", () => {
  const bytes = png(1376, 768);
  assert.equal(sniffMimeType(bytes), "image/png");
  assert.deepEqual(imageDimensions(bytes), { width: 1376, height: 768 });
});

Deno.test("imageDimensions() reads JPEG SOF0 and SOF2 past DHT and fill bytes", () => {
  assert.equal(sniffMimeType(jpeg(1, 1)), "image/jpeg");
  assert.deepEqual(imageDimensions(jpeg(1024, 1024)), {
    width: 1024,
    height: 1024,
  });
  assert.deepEqual(imageDimensions(jpeg(2752, 1536, 0xc2)), {
    width: 2752,
    height: 1536,
  });
});

Deno.test("imageDimensions() gives up on a JPEG without a frame header", () => {
  const bytes = concat(
    [0xff, 0xd8],
    segment(0xe0, [0, 0, 0]),
    segment(0xda, [0, 0, 0]),
    [0xff, 0xd9],
  );
  assert.equal(imageDimensions(bytes), undefined);
});

Deno.test("imageDimensions() reads WebP VP8X, VP8L and VP8 headers", async (t) => {
  await t.step("VP8X (extended)", () => {
    const bytes = webp("VP8X", [0x10, 0, 0, 0, ...le24(1919), ...le24(1079)]);
    assert.equal(sniffMimeType(bytes), "image/webp");
    assert.deepEqual(imageDimensions(bytes), { width: 1920, height: 1080 });
  });
  await t.step("VP8L (lossless)", () => {
    const bits = (800 - 1) | ((600 - 1) << 14);
    const bytes = webp("VP8L", [0x2f, ...le32(bits), 0, 0, 0, 0, 0]);
    assert.deepEqual(imageDimensions(bytes), { width: 800, height: 600 });
  });
  await t.step("VP8 (lossy key frame)", () => {
    const bytes = webp("VP8 ", [
      0x50,
      0x02,
      0x00,
      0x9d,
      0x01,
      0x2a,
      ...le16(640),
      ...le16(480 | 0x4000), // top bits are the scale, not the size
      0,
      0,
    ]);
    assert.deepEqual(imageDimensions(bytes), { width: 640, height: 480 });
  });
});

Deno.test("imageDimensions() returns undefined for unknown or truncated bytes", () => {
  assert.equal(imageDimensions(new Uint8Array([1, 2, 3])), undefined);
  assert.equal(imageDimensions(png(10, 10).subarray(0, 20)), undefined);
  assert.equal(imageDimensions(jpeg(10, 10).subarray(0, 30)), undefined);
  assert.equal(
    imageDimensions(new TextEncoder().encode("GIF89a......")),
    undefined,
  );
  assert.equal(imageDimensions(png(0, 10)), undefined);
});

Deno.test("extensionForMimeType() maps Google's image types", () => {
  assert.equal(extensionForMimeType("image/png"), "png");
  assert.equal(extensionForMimeType("image/jpeg"), "jpg");
  assert.equal(extensionForMimeType("IMAGE/JPEG; q=1"), "jpg");
  assert.equal(extensionForMimeType("image/webp"), "webp");
  assert.equal(extensionForMimeType("image/jpg"), "jpg");
});

Deno.test("extensionForMimeType() has no extension for types BatchGen does not store", () => {
  for (
    const type of ["image/gif", "image/heic", "application/octet-stream", ""]
  ) {
    assert.equal(extensionForMimeType(type), undefined, type);
  }
});
