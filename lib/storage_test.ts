import assert from "node:assert/strict";
import { join } from "node:path";
import {
  IMAGE_EXTENSIONS,
  IMAGE_FILE_NAME,
  imageFileName,
  imageStem,
  isTempFileName,
  parseImageFileName,
  removeTempFiles,
  sha256Hex,
  writeFileAtomic,
} from "./storage.ts";

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

Deno.test("writeFileAtomic() writes the file and leaves no temp file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const path = await writeFileAtomic(dir, "0001-1.png", bytes);
    assert.equal(path, join(dir, "0001-1.png"));
    assert.deepEqual(await Deno.readFile(path), bytes);
    assert.deepEqual(await names(dir), ["0001-1.png"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() replaces an existing file in one rename", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeFileAtomic(
      dir,
      "manifest.json",
      new TextEncoder().encode("old"),
    );
    const before = await Deno.stat(join(dir, "manifest.json"));
    await writeFileAtomic(
      dir,
      "manifest.json",
      new TextEncoder().encode("new!"),
    );
    const after = await Deno.stat(join(dir, "manifest.json"));
    assert.equal(await Deno.readTextFile(join(dir, "manifest.json")), "new!");
    // A rename swaps in a new inode; an in-place write would keep the old one.
    assert.notEqual(after.ino, before.ino);
    assert.deepEqual(await names(dir), ["manifest.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() removes its temp file when the rename fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The target is a non-empty directory: the rename fails after the write.
    await Deno.mkdir(join(dir, "taken.png"));
    await Deno.writeTextFile(join(dir, "taken.png", "x"), "x");
    await assert.rejects(
      writeFileAtomic(dir, "taken.png", new Uint8Array([1])),
    );
    assert.deepEqual(await names(dir), ["taken.png"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() rejects names that are not plain file names", async () => {
  await assert.rejects(
    writeFileAtomic("/tmp", "../x.png", new Uint8Array()),
    TypeError,
  );
  await assert.rejects(
    writeFileAtomic("/tmp", ".hidden", new Uint8Array()),
    TypeError,
  );
});

Deno.test("removeTempFiles() removes only temp files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "0001-1.png"), "keep");
    await Deno.writeTextFile(
      join(dir, ".0002-1.png.tmp-0123456789abcdef"),
      "x",
    );
    assert.equal(await removeTempFiles(dir), 1);
    assert.deepEqual(await names(dir), ["0001-1.png"]);
    assert.equal(await removeTempFiles(join(dir, "missing")), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("imageFileName() pads the 1-based position to four digits", () => {
  assert.equal(imageFileName(2, 0, "png"), "0003-1.png");
  assert.equal(imageFileName(11, 3, "jpg"), "0012-4.jpg");
  assert.equal(isTempFileName(".0003-1.png.tmp-0123456789abcdef"), true);
  assert.equal(isTempFileName("0003-1.png"), false);
});

Deno.test("imageStem() is the file name without its extension", () => {
  assert.equal(imageStem(2, 0), "0003-1");
  assert.equal(imageStem(9999, 9), "10000-10");
});

Deno.test("parseImageFileName() reads back every name imageFileName() writes", () => {
  for (const extension of IMAGE_EXTENSIONS) {
    for (
      const [position, imageIndex] of [[0, 0], [2, 3], [9998, 9], [12345, 0]]
    ) {
      const name = imageFileName(position!, imageIndex!, extension);
      assert.deepEqual(parseImageFileName(name), {
        position,
        imageIndex,
        extension,
      }, name);
      assert.match(name, IMAGE_FILE_NAME);
    }
  }
});

Deno.test("parseImageFileName() rejects names imageFileName() never writes", () => {
  for (
    const name of [
      "0003-1.bin", // an unsupported type is never saved
      "0003-1.gif",
      "0003-1.jpeg",
      "0003-1.PNG",
      "0000-1.png", // positions are 1-based
      "0003-0.png", // image indexes are 1-based
      "003-1.png", // padded to four digits
      "00003-1.png", // no extra padding
      "0003-01.png",
      "0003-1.png.tmp",
      ".0003-1.png.tmp-0123456789abcdef",
      "../0003-1.png",
      "0003-1",
      "manifest.json",
      "99999999999999999999-1.png", // not a safe integer
    ]
  ) {
    assert.equal(parseImageFileName(name), undefined, name);
  }
});

Deno.test("sha256Hex() hashes bytes", async () => {
  assert.equal(
    await sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});
