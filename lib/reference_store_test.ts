import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkReferenceImage,
  referenceName,
  referencePath,
  storeReferenceBytes,
} from "./reference_store.ts";

const ascii = (text: string) => Array.from(text, (ch) => ch.charCodeAt(0));

Deno.test("referenceName() keeps the last path part without control or bidi characters", () => {
  assert.equal(referenceName("C:\\photos\\cat.png"), "cat.png");
  assert.equal(referenceName("../../etc/passwd"), "passwd");
  assert.equal(referenceName("a\u0000b\u001b[31m.png"), "ab[31m.png");
  assert.equal(referenceName("invoice\u202egpj.exe"), "invoicegpj.exe");
  assert.equal(referenceName(" /\u0007 "), "image");
});

Deno.test("referenceName() cuts long names to 120 characters, keeping the extension", () => {
  const name = referenceName(`${"é".repeat(200)}.webp`);
  assert.equal(Array.from(name).length, 120);
  assert.ok(name.endsWith("é.webp"));
  assert.equal(Array.from(referenceName("😀".repeat(130))).length, 120);
});

Deno.test("checkReferenceImage() recognises WebP by its bytes, whatever the name", async () => {
  // RIFF, size, WEBP, VP8X chunk: flags, reserved, width-1 and height-1 (24-bit LE).
  const webp = new Uint8Array([
    ...ascii("RIFF"),
    22,
    0,
    0,
    0,
    ...ascii("WEBPVP8X"),
    10,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    99,
    0,
    0,
    49,
    0,
    0,
  ]);
  const result = await checkReferenceImage("pic.jpg", webp);
  assert.ok(result.ok);
  assert.equal(result.value.mimeType, "image/webp");
  assert.deepEqual([result.value.width, result.value.height], [100, 50]);
  assert.equal(result.value.name, "pic.jpg");
});

Deno.test("referencePath() refuses anything but a hash and a stored type", () => {
  const sha = "a".repeat(64);
  assert.equal(referencePath("/d", sha, "image/jpeg"), `/d/${sha}.jpg`);
  assert.throws(() => referencePath("/d", "../x", "image/png"), TypeError);
  assert.throws(() => referencePath("/d", sha, "text/html"), TypeError);
});

Deno.test("storeReferenceBytes() writes a content's file once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "batchgen-refs-" });
  try {
    const sha = "b".repeat(64);
    const refs = join(dir, "references");
    const path = await storeReferenceBytes(
      refs,
      sha,
      "image/png",
      new Uint8Array([1]),
    );
    assert.equal(path, join(refs, `${sha}.png`));
    // Same name, so the same content: the file is left as it is.
    await storeReferenceBytes(refs, sha, "image/png", new Uint8Array([2]));
    assert.deepEqual(await Deno.readFile(path), new Uint8Array([1]));
    assert.equal(Array.from(Deno.readDirSync(refs)).length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
