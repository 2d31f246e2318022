import assert from "node:assert/strict";
import { join } from "node:path";
import {
  isTempFileName,
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

Deno.test("isTempFileName() knows writeFileAtomic()'s temp names", () => {
  assert.equal(isTempFileName(".0003-1.png.tmp-0123456789abcdef"), true);
  assert.equal(isTempFileName("0003-1.png"), false);
});

Deno.test("sha256Hex() hashes bytes", async () => {
  assert.equal(
    await sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});
