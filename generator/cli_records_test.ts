/** [cli] The CLI's in-memory batch follows the server's rules and writes the server's manifest. */
import assert from "node:assert/strict";
import { buildBatch } from "../core/batch_plan.ts";
import { createCliRecords } from "./cli_records.ts";
import { progressLine } from "./cli.ts";

const USAGE = {
  promptTokens: 1,
  outputTokens: 2,
  imageTokens: 3,
  thoughtTokens: 4,
};

function records() {
  const plan = buildBatch({
    prompts: ["a", "b", "c", "d"],
    model: "gemini-3-pro-image",
    aspectRatio: "4:3",
    imageSize: "2K",
    concurrency: 2,
  }, { defaultConcurrency: 4 });
  assert.ok(plan.ok);
  return createCliRecords(plan.value, "cli-1");
}

Deno.test("[cli] records results, blocks, failures and a stop, and builds the one manifest format", () => {
  const r = records();
  assert.deepEqual(r.jobItems().map((i) => i.itemId), [
    "0-0",
    "1-0",
    "2-0",
    "3-0",
  ]);
  r.apply({ type: "started", items: 4 });
  r.apply({ type: "item-started", itemId: "1-0", attempt: 1 });
  r.apply({ type: "usage", itemId: "1-0", ...USAGE });
  r.apply({
    type: "image-saved",
    itemId: "1-0",
    fileName: "0002-1.jpg",
    mimeType: "image/jpeg",
    bytes: 10,
    sha256: "a".repeat(64),
    width: 4,
    height: 3,
  });
  r.apply({ type: "item-started", itemId: "0-0", attempt: 1 });
  r.apply({
    type: "item-failed",
    itemId: "0-0",
    kind: "blocked",
    message: "Google blocked this image (IMAGE_SAFETY)",
    retryable: false,
  });
  r.apply({
    type: "item-failed",
    itemId: "2-0",
    kind: "server",
    message: "The model is overloaded.",
    retryable: true,
  });
  r.apply({ type: "item-started", itemId: "3-0", attempt: 1 });
  assert.equal(r.progress().finished, 3);
  assert.equal(r.progress().label("2-0"), "0003-1");

  const manifest = r.finish({
    stopMessage: "Daily quota used up",
    exitCode: 0,
  });
  assert.equal(manifest.generator, "BatchGen CLI");
  assert.equal(manifest.batch.model, "gemini-3-pro-image");
  assert.deepEqual(manifest.batch.settings, {
    aspectRatio: "4:3",
    imageSize: "2K",
    imagesPerPrompt: 1,
    concurrency: 2,
  });
  // The stop leaves the one item still running interrupted, as on the server.
  assert.deepEqual(manifest.items.map((i) => i.status), [
    "blocked",
    "succeeded",
    "failed",
    "interrupted",
  ]);
  assert.equal(manifest.batch.status, "interrupted");
  assert.equal(manifest.batch.statusMessage, "Daily quota used up");
  assert.deepEqual(manifest.batch.counts, {
    items: 4,
    succeeded: 1,
    failed: 2,
    blocked: 1,
  });
  assert.equal(manifest.items[1]!.file, "0002-1.jpg");
  assert.equal(manifest.items[1]!.attempts, 1);
  assert.deepEqual(manifest.items[1]!.usage, USAGE);
  assert.ok((manifest.items[1]!.estimatedCostUsd ?? 0) > 0);
  assert.equal(
    manifest.batch.cost.actualUsd,
    manifest.items[1]!.estimatedCostUsd,
  );
  assert.match(manifest.batch.cost.label, /not a BatchGen charge/);
});

Deno.test("[cli] a finished run with every image saved is done", () => {
  const r = records();
  for (const [i, id] of ["0-0", "1-0", "2-0", "3-0"].entries()) {
    r.apply({
      type: "image-saved",
      itemId: id,
      fileName: `000${i + 1}-1.png`,
      mimeType: "image/png",
      bytes: 1,
      sha256: "b".repeat(64),
    });
  }
  const manifest = r.finish({ stopMessage: null, exitCode: 0 });
  assert.equal(manifest.batch.status, "done");
  assert.equal(manifest.batch.statusMessage, null);
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
