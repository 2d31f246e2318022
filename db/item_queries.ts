/** Writes that follow a generator's events for one item. */
import type { SavedImage } from "../core/protocol.ts";
import { and, type AnyColumn, eq, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import { type Image, images, type Item, items } from "./schema.ts";
import { newId } from "./ids.ts";

function inBatch(batchId: string, itemId: string) {
  return and(eq(items.id, itemId), eq(items.batchId, batchId));
}

/** Marks an item running and counts the attempt; returns it (undefined if foreign). */
export async function markItemStarted(
  db: Db,
  batchId: string,
  itemId: string,
): Promise<Item | undefined> {
  const [row] = await db.update(items).set({
    status: "running",
    attempts: sql`${items.attempts} + 1`,
    startedAt: new Date(),
    errorKind: null,
    errorMessage: null,
  }).where(inBatch(batchId, itemId)).returning();
  return row;
}

/** Records a saved image and marks its item succeeded, in one transaction. */
export async function recordImage(
  db: Db,
  batchId: string,
  itemId: string,
  saved: SavedImage,
): Promise<{ item: Item; image: Image } | undefined> {
  const owned = await db.query.items.findFirst({
    where: inBatch(batchId, itemId),
  });
  if (!owned) return undefined;
  // A retried item replaces its earlier image row, never duplicates it; the
  // three writes are one atomic batch.
  const [[item], , [image]] = await db.batch([
    db.update(items).set({
      status: "succeeded",
      finishedAt: new Date(),
      errorKind: null,
      errorMessage: null,
    }).where(eq(items.id, itemId)).returning(),
    db.delete(images).where(eq(images.itemId, itemId)),
    db.insert(images).values({
      id: newId(),
      itemId,
      batchId,
      fileName: saved.fileName,
      mimeType: saved.mimeType,
      bytes: saved.bytes,
      sha256: saved.sha256,
      width: saved.width ?? null,
      height: saved.height ?? null,
      createdAt: new Date(),
    }).returning(),
  ]);
  return item && image ? { item, image } : undefined;
}

/** Records a final failure (message already scrubbed by the generator and again here by the caller). */
export async function recordFailure(
  db: Db,
  batchId: string,
  itemId: string,
  failure: { kind: string; message: string },
): Promise<Item | undefined> {
  const [item] = await db.update(items).set({
    status: failure.kind === "blocked" ? "blocked" : "failed",
    errorKind: failure.kind,
    errorMessage: failure.message,
    finishedAt: new Date(),
  }).where(inBatch(batchId, itemId)).returning();
  return item;
}

export interface ItemUsage {
  promptTokens: number;
  outputTokens: number;
  imageTokens: number;
  thoughtTokens: number;
}

/**
 * Adds one attempt's token usage and its estimated cost to an item, in one
 * statement (no read-then-write race between attempts). A null cost (no
 * price for the model) leaves the item's cost as it was.
 */
export async function recordUsage(
  db: Db,
  batchId: string,
  itemId: string,
  usage: ItemUsage,
  costUsd: number | null,
): Promise<Item | undefined> {
  const plus = (column: AnyColumn, amount: number) =>
    sql`coalesce(${column}, 0) + ${amount}`;
  const [item] = await db.update(items).set({
    promptTokens: plus(items.promptTokens, usage.promptTokens),
    outputTokens: plus(items.outputTokens, usage.outputTokens),
    imageTokens: plus(items.imageTokens, usage.imageTokens),
    thoughtTokens: plus(items.thoughtTokens, usage.thoughtTokens),
    ...(costUsd === null ? {} : { costUsd: plus(items.costUsd, costUsd) }),
  }).where(inBatch(batchId, itemId)).returning();
  return item;
}
