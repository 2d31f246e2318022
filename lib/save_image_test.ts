import assert from "node:assert/strict";
import type { JobItem } from "../core/protocol.ts";
import { saveImage, UnsupportedImageTypeError } from "./save_image.ts";

const ITEM: JobItem = { itemId: "i", position: 2, imageIndex: 0, prompt: "p" };
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const GIF = new TextEncoder().encode("GIF89a......");

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out;
}

Deno.test("saveImage() names the file by position and Google's MIME type", async () => {
  await withDir(async (dir) => {
    const saved = await saveImage(dir, ITEM, {
      bytes: PNG,
      mimeType: "image/png",
    });
    assert.equal(saved.fileName, "0003-1.png");
    assert.equal(saved.mimeType, "image/png");
    assert.deepEqual(await names(dir), ["0003-1.png"]);
  });
});

Deno.test("saveImage() sniffs the type when Google sends none", async () => {
  await withDir(async (dir) => {
    const saved = await saveImage(dir, ITEM, { bytes: PNG, mimeType: "" });
    assert.equal(saved.fileName, "0003-1.png");
    assert.equal(saved.mimeType, "image/png");
  });
});

Deno.test("saveImage() refuses bytes that are no PNG, JPEG or WebP, whatever the label, and writes nothing", async (t) => {
  const HTML = new TextEncoder().encode("<html><script>alert(1)</script>");
  const cases = [
    { mimeType: "image/gif", bytes: GIF, named: "image/gif" },
    { mimeType: "image/png", bytes: HTML, named: "image/png" },
    {
      mimeType: "text/html;\r\nSet-Cookie: a=b",
      bytes: HTML,
      named: "text/htmlSet-Cookieab",
    },
    { mimeType: "", bytes: GIF, named: "unknown" },
  ];
  for (const { mimeType, bytes, named } of cases) {
    await t.step(JSON.stringify(mimeType), async () => {
      await withDir(async (dir) => {
        await assert.rejects(
          saveImage(dir, ITEM, { bytes, mimeType }),
          (error) =>
            error instanceof UnsupportedImageTypeError &&
            error.message ===
              `Google returned an image type BatchGen cannot store: ${named}`,
        );
        assert.deepEqual(await names(dir), []);
      });
    });
  }
});

Deno.test("saveImage() stores PNG bytes as image/png, whatever label upstream put on them", async () => {
  for (
    const label of [
      "application/octet-stream",
      "image/png;\r\nSet-Cookie: session=stolen",
      "image/jpeg",
    ]
  ) {
    await withDir(async (dir) => {
      const saved = await saveImage(dir, ITEM, { bytes: PNG, mimeType: label });
      assert.equal(saved.mimeType, "image/png", label);
      assert.equal(saved.fileName, "0003-1.png", label);
    });
  }
});
