import assert from "node:assert/strict";
import {
  fileReference,
  inlineReference,
  type ReferencePart,
  requestContents,
} from "./parts.ts";

const BYTES = new Uint8Array([137, 80, 78, 71, 0, 255]);

Deno.test("requestContents() puts the image parts before the prompt", () => {
  const references: ReferencePart[] = [
    inlineReference(BYTES, "image/png"),
    fileReference({
      name: "files/abc",
      uri: "https://generativelanguage.googleapis.com/v1beta/files/abc",
      mimeType: "image/jpeg",
    }),
  ];
  assert.deepEqual(requestContents("a fox in the style of these", references), [
    {
      role: "user",
      parts: [
        { inlineData: { mimeType: "image/png", data: "iVBORwD/" } },
        {
          fileData: {
            mimeType: "image/jpeg",
            fileUri:
              "https://generativelanguage.googleapis.com/v1beta/files/abc",
          },
        },
        { text: "a fox in the style of these" },
      ],
    },
  ]);
  assert.deepEqual(requestContents("just text", []), [{
    role: "user",
    parts: [{ text: "just text" }],
  }]);
});

Deno.test("requestContents() shares no part objects between requests", () => {
  const references = [inlineReference(BYTES, "image/png")];
  const first = requestContents("one", references);
  const part = first[0]!.parts[0] as { inlineData: { data: string } };
  part.inlineData.data = "changed";
  const second = requestContents("two", references);
  assert.deepEqual(second[0]!.parts[0], {
    inlineData: { mimeType: "image/png", data: "iVBORwD/" },
  });
});
