import assert from "node:assert/strict";
import type { Job } from "../core/protocol.ts";
import { createManifestBuilder } from "./manifest.ts";
import { progressLine } from "./cli.ts";

const JOB: Job = {
  batchId: "cli-1",
  model: "gemini-3-pro-image",
  aspectRatio: "4:3",
  imageSize: "2K",
  concurrency: 2,
  outputDir: "out",
  timeoutMs: 1_000,
  maxAttempts: 2,
  items: [
    { itemId: "0-0", position: 0, imageIndex: 0, prompt: "a" },
    { itemId: "1-0", position: 1, imageIndex: 0, prompt: "b" },
    { itemId: "2-0", position: 2, imageIndex: 0, prompt: "c" },
    { itemId: "3-0", position: 3, imageIndex: 0, prompt: "d" },
  ],
};
const USAGE = {
  promptTokens: 1,
  outputTokens: 2,
  imageTokens: 3,
  thoughtTokens: 4,
};

Deno.test("createManifestBuilder() records results, blocks, failures and stops", () => {
  const builder = createManifestBuilder(JOB, { imagesPerPrompt: 1 });
  builder.record({ type: "started", items: 4 });
  builder.record({ type: "usage", itemId: "1-0", ...USAGE });
  builder.record({
    type: "image-saved",
    itemId: "1-0",
    fileName: "0002-1.jpg",
    mimeType: "image/jpeg",
    bytes: 10,
    sha256: "a".repeat(64),
    width: 4,
    height: 3,
  });
  builder.record({
    type: "item-failed",
    itemId: "0-0",
    kind: "blocked",
    message: "Google blocked this image (IMAGE_SAFETY)",
    retryable: false,
  });
  builder.record({
    type: "item-failed",
    itemId: "2-0",
    kind: "server",
    message: "The model is overloaded.",
    retryable: true,
  });
  builder.record({
    type: "batch-stopped",
    kind: "quota",
    message: "Daily quota used up",
  });
  assert.deepEqual(builder.progress().finished, 3);
  assert.equal(builder.progress().label("2-0"), "0003-1");

  const manifest = builder.build();
  assert.equal(manifest.generator, "BatchGen CLI");
  assert.deepEqual(manifest.settings, {
    aspectRatio: "4:3",
    imageSize: "2K",
    imagesPerPrompt: 1,
    concurrency: 2,
  });
  assert.deepEqual(manifest.items.map((i) => i.status), [
    "blocked",
    "succeeded",
    "failed",
    "interrupted",
  ]);
  assert.deepEqual(Object.keys(manifest.items[1]!), [
    "position",
    "imageIndex",
    "prompt",
    "status",
    "file",
    "mimeType",
    "bytes",
    "sha256",
    "width",
    "height",
    "usage",
  ]);
  assert.equal(manifest.items[1]!.file, "0002-1.jpg");
  assert.deepEqual(manifest.items[1]!.usage, USAGE);
  assert.equal(manifest.items[3]!.errorKind, "quota");
  assert.deepEqual(manifest.counts, { succeeded: 1, failed: 3 });
});

Deno.test("progressLine() writes human lines for the events that matter", () => {
  const progress = { finished: 3, total: 10, label: () => "0003-1" };
  assert.equal(
    progressLine({
      type: "image-saved",
      itemId: "x",
      fileName: "0003-1.png",
      mimeType: "image/png",
      bytes: 1,
      sha256: "a".repeat(64),
      width: 1024,
      height: 768,
    }, progress),
    "[3/10] saved 0003-1.png (1024×768)",
  );
  assert.equal(
    progressLine({
      type: "item-failed",
      itemId: "x",
      kind: "blocked",
      message: "no",
      retryable: false,
    }, progress),
    "[3/10] 0003-1 failed (blocked): no",
  );
  assert.equal(
    progressLine({ type: "item-started", itemId: "x", attempt: 1 }, progress),
    undefined,
  );
  assert.match(
    progressLine({ type: "rate-limited", retryAfterMs: 47_000 }, progress) ??
      "",
    /47\.0 s/,
  );
});
