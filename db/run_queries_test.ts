/** [db] A run's O(1) per-event batch updates agree with a full recount. */
import { plainRows } from "../core/batch_plan.ts";
import assert from "node:assert/strict";
import { eq } from "drizzle-orm";
import { openDb } from "./client.ts";
import { createBatch, listBatches } from "./batch_queries.ts";
import {
  addToBatch,
  markItemStarted,
  moveItems,
  recordFailure,
  recordImage,
  recordUsage,
  settleBatch,
} from "./run_queries.ts";
import { items } from "./schema.ts";
import type { Batch, ItemStatus } from "../core/records.ts";
import { runnableStatuses } from "../core/status.ts";

const USAGE = {
  promptTokens: 10,
  outputTokens: 20,
  imageTokens: 30,
  thoughtTokens: 0,
};

function newBatch(workspaceId: string, prompts: string[], title = "t") {
  return {
    workspaceId,
    title,
    model: "m",
    settings: {
      aspectRatio: "1:1",
      imageSize: "1K",
      imagesPerPrompt: 1,
      concurrency: 1,
    },
    rows: plainRows(prompts, {
      model: "m",
      aspectRatio: "1:1",
      imageSize: "1K",
      imagesPerPrompt: 1,
    }),
    estimatedCostUsd: null,
    priceListDate: null,
  };
}

const counts = (b: Batch) => ({
  succeeded: b.succeededCount,
  failed: b.failedCount,
  cost: Math.round(b.actualCostUsd * 1e9) / 1e9,
});

Deno.test("[db] a retry run's increments match settleBatch's recount", async () => {
  const { db, close } = await openDb(":memory:");
  try {
    const batch = await createBatch(
      db,
      newBatch("w", ["a", "b", "c", "d", "e", "f"]),
    );
    const rows = await db.select().from(items).where(
      eq(items.batchId, batch.id),
    );
    const ids = rows.sort((x, y) => x.position - y.position).map((r) => r.id);
    // An earlier run: two saved, two failed, one blocked, one never started.
    const before: ItemStatus[] = [
      "succeeded",
      "succeeded",
      "failed",
      "failed",
      "blocked",
      "pending",
    ];
    for (const [i, status] of before.entries()) {
      await db.update(items).set({
        status,
        costUsd: status === "pending" ? null : 0.5,
      })
        .where(eq(items.id, ids[i]!));
    }
    assert.deepEqual(counts(await settleBatch(db, batch.id)), {
      succeeded: 2,
      failed: 3,
      cost: 2.5,
    });

    // Retry: failed and blocked items go back to pending; the opening
    // settle takes them out of the failed count and keeps their cost.
    await moveItems(db, batch.id, runnableStatuses("retry"), "pending");
    let current = await settleBatch(db, batch.id, { running: true });
    assert.equal(current.status, "running");
    assert.deepEqual(counts(current), { succeeded: 2, failed: 0, cost: 2.5 });

    // Item 2 needs two attempts (billed twice) and is saved; item 3 fails.
    await markItemStarted(db, batch.id, ids[2]!);
    for (const cost of [0.25, 0.25]) {
      await recordUsage(db, batch.id, ids[2]!, USAGE, cost);
      current = await addToBatch(db, batch.id, { costUsd: cost });
    }
    await recordImage(db, batch.id, ids[2]!, {
      fileName: "0003-1.png",
      mimeType: "image/png",
      bytes: 1,
      sha256: "0".repeat(64),
    });
    current = await addToBatch(db, batch.id, { succeeded: 1 });
    await markItemStarted(db, batch.id, ids[3]!);
    await recordFailure(db, batch.id, ids[3]!, {
      kind: "blocked",
      message: "x",
    });
    current = await addToBatch(db, batch.id, { failed: 1 });

    assert.equal(current.status, "running");
    const recount = await settleBatch(db, batch.id, { running: true });
    assert.deepEqual(counts(current), counts(recount));
    assert.deepEqual(counts(current), { succeeded: 3, failed: 1, cost: 3 });
  } finally {
    close();
  }
});

Deno.test("[db] recordUsage adds tokens and cost; a null cost leaves the cost alone", async () => {
  const { db, close } = await openDb(":memory:");
  try {
    const batch = await createBatch(db, newBatch("w", ["a"]));
    const [row] = await db.select().from(items).where(
      eq(items.batchId, batch.id),
    );
    const id = row!.id;
    let item = await recordUsage(db, batch.id, id, USAGE, null);
    assert.equal(item?.costUsd, null);
    assert.equal(item?.imageTokens, 30);
    item = await recordUsage(db, batch.id, id, USAGE, 0.125);
    item = await recordUsage(db, batch.id, id, USAGE, 0.125);
    assert.equal(item?.costUsd, 0.25);
    assert.equal(item?.promptTokens, 30);
    assert.equal(await recordUsage(db, "other", id, USAGE, 1), undefined);
  } finally {
    close();
  }
});

Deno.test("[db] listBatches finds prompts of the workspace's batches only, literally", async () => {
  const { db, close } = await openDb(":memory:");
  try {
    const mine = await createBatch(db, newBatch("w", ["a 100% zebra"]));
    await createBatch(db, newBatch("other", ["a 100% zebra"]));
    await createBatch(db, newBatch("w", ["a 1000 zebras"]));
    const found = async (query: string) =>
      (await listBatches(db, "w", { query })).batches.map((b) => b.id);
    assert.deepEqual(await found("100%"), [mine.id]);
    assert.deepEqual(await found("0%_z"), []);
  } finally {
    close();
  }
});
