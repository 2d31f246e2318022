/** [db] The gallery's images across batches, and History's first images. */
import { plainRows } from "../core/batch_plan.ts";
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { openDb } from "./client.ts";
import { createBatch } from "./batch_queries.ts";
import { firstImages, listGalleryImages } from "./gallery_queries.ts";
import { newId } from "./ids.ts";
import { batches, images, items } from "./schema.ts";
import type { Batch, BatchStatus } from "../core/records.ts";

async function batchWithImages(
  db: Awaited<ReturnType<typeof openDb>>["db"],
  workspaceId: string,
  { prompts, model = "m", status = "done", times = [], imagesPerPrompt = 1 }: {
    prompts: string[];
    model?: string;
    status?: BatchStatus;
    /** createdAt (ms) of each image saved, in item order; fewer = fewer images. */
    times?: number[];
    imagesPerPrompt?: number;
  },
): Promise<{ batch: Batch; imageIds: string[] }> {
  const batch = await createBatch(db, {
    workspaceId,
    title: `${prompts[0]} batch`,
    model,
    settings: {
      aspectRatio: "1:1",
      imageSize: "1K",
      imagesPerPrompt,
      concurrency: 1,
    },
    rows: plainRows(prompts, {
      model,
      aspectRatio: "1:1",
      imageSize: "1K",
      imagesPerPrompt,
    }),
    estimatedCostUsd: null,
    priceListDate: null,
  });
  await db.update(batches).set({ status }).where(eq(batches.id, batch.id));
  const rows = (await db.select().from(items).where(
    eq(items.batchId, batch.id),
  )).sort((a, b) => a.position - b.position || a.imageIndex - b.imageIndex);
  const imageIds: string[] = [];
  for (const [i, time] of times.entries()) {
    const item = rows[i]!;
    const id = newId();
    imageIds.push(id);
    await db.insert(images).values({
      id,
      itemId: item.id,
      batchId: batch.id,
      fileName: `${String(item.position + 1).padStart(4, "0")}-${
        item.imageIndex + 1
      }.png`,
      mimeType: "image/png",
      bytes: 10,
      sha256: "0".repeat(64),
      width: 8,
      height: 8,
      createdAt: new Date(time),
    });
  }
  return { batch: { ...batch, status }, imageIds };
}

Deno.test("[db] gallery: newest first across batches, prompt text, filters and cursor, one workspace only", async () => {
  const { db, close } = await openDb(":memory:");
  try {
    const a = await batchWithImages(db, "w", {
      prompts: ["a red fox", "a 100% blue whale"],
      model: "m1",
      times: [1000, 3000],
    });
    const b = await batchWithImages(db, "w", {
      prompts: ["a heron"],
      model: "m2",
      status: "partial",
      times: [2000, 2000],
      imagesPerPrompt: 2,
    });
    await batchWithImages(db, "other", {
      prompts: ["a red fox elsewhere"],
      model: "m1",
      times: [5000],
    });

    const all = await listGalleryImages(db, "w");
    const sameMs = [...b.imageIds].sort().reverse();
    assert.deepEqual(
      all.images.map((g) => g.image.id),
      [a.imageIds[1], ...sameMs, a.imageIds[0]],
    );
    assert.equal(all.nextCursor, null);
    const whale = all.images[0]!;
    assert.equal(whale.item.prompt, "a 100% blue whale");
    assert.equal(whale.item.position, 1);
    assert.equal(whale.batch.id, a.batch.id);
    assert.equal(whale.batch.title, "a red fox batch");
    assert.equal(all.images[1]!.item.prompt, "a heron");

    const ids = async (filter: Parameters<typeof listGalleryImages>[2]) =>
      (await listGalleryImages(db, "w", filter)).images.map((g) => g.image.id);
    assert.deepEqual(await ids({ query: "RED" }), [a.imageIds[0]]);
    assert.deepEqual(await ids({ query: "100%" }), [a.imageIds[1]]);
    assert.deepEqual(await ids({ query: "%" }), [a.imageIds[1]]);
    assert.deepEqual(await ids({ query: "_" }), []);
    assert.deepEqual(await ids({ model: "m2" }), sameMs);
    assert.deepEqual(await ids({ status: "partial" }), sameMs);
    assert.deepEqual(await ids({ status: "done", model: "m2" }), []);
    assert.deepEqual(await ids({ query: "fox", model: "m1" }), [
      a.imageIds[0],
    ]);

    // Pages of one, through the two images saved in the same millisecond.
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listGalleryImages(db, "w", { cursor, limit: 1 });
      paged.push(...page.images.map((g) => g.image.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    assert.deepEqual(paged, all.images.map((g) => g.image.id));

    assert.deepEqual((await listGalleryImages(db, "nobody")).images, []);
  } finally {
    close();
  }
});

Deno.test("[db] firstImages: each batch's earliest image in one query, none for a batch without", async () => {
  const { db, close } = await openDb(":memory:");
  try {
    const a = await batchWithImages(db, "w", {
      prompts: ["x", "y", "z"],
      times: [3000, 1000, 2000],
    });
    const b = await batchWithImages(db, "w", {
      prompts: ["p", "q"],
      times: [500, 500],
    });
    const empty = await batchWithImages(db, "w", { prompts: ["n"] });
    const first = await firstImages(db, [
      a.batch.id,
      b.batch.id,
      empty.batch.id,
    ]);
    assert.equal(first.get(a.batch.id)?.id, a.imageIds[1]);
    assert.equal(first.get(b.batch.id)?.id, [...b.imageIds].sort()[0]);
    assert.equal(first.has(empty.batch.id), false);
    assert.equal((await firstImages(db, [])).size, 0);
  } finally {
    close();
  }
});
