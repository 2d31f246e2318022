import assert from "node:assert/strict";
import {
  IMAGE_EXTENSIONS,
  IMAGE_FILE_NAME,
  imageFileName,
  imageStem,
  parseImageFileName,
} from "./files.ts";

Deno.test("imageFileName() pads the 1-based position to four digits", () => {
  assert.equal(imageFileName(2, 0, "png"), "0003-1.png");
  assert.equal(imageFileName(11, 3, "jpg"), "0012-4.jpg");
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
