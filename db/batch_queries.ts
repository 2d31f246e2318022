/**
 * Queries for batches, their items and images: create, read, list, delete.
 * Every read is scoped to a workspace. A run's writes live in run_queries.ts.
 */
import { and, asc, desc, eq, or, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import { afterCursor, contains, nextCursorAfter } from "./paging.ts";
import { newId } from "./ids.ts";
import { batches, images, items, prompts, referenceImages } from "./schema.ts";
import { selectItems } from "./item_rows.ts";
import type {
  Batch,
  BatchMode,
  BatchSettings,
  Image,
  Item,
  ReferenceImage,
} from "../core/records.ts";
import { itemSlots, type PlannedRow } from "../core/batch_plan.ts";
import type { QuotaUsage } from "../core/quota.ts";
import { NEW_BATCH, NEW_ITEM } from "../core/status.ts";

export interface NewBatch {
  workspaceId: string;
  title: string;
  model: string;
  settings: BatchSettings;
  /** The rows, each stored once, with one pending item per image. */
  rows: readonly PlannedRow[];
  estimatedCostUsd: number | null;
  priceListDate: string | null;
  budgetUsd?: number | null;
  mode?: BatchMode;
  /** Reference images uploaded with the batch (their bytes already stored). */
  newReferences?: readonly ReferenceImage[];
}

/** Stores a key-free batch with one new item per slot, atomically. */
export async function createBatch(db: Db, input: NewBatch): Promise<Batch> {
  const now = new Date();
  const id = newId();
  const rows = itemSlots(input).map(({ position, imageIndex }) => ({
    id: newId(),
    batchId: id,
    position,
    imageIndex,
    status: NEW_ITEM,
  }));
  // Each row once, however many images it asks for.
  const promptRows = input.rows.map((
    { prompt, images: _, ...settings },
    position,
  ) => ({
    batchId: id,
    position,
    text: prompt,
    ...settings,
  }));
  const encoder = new TextEncoder();
  const batch: Batch = {
    id,
    workspaceId: input.workspaceId,
    createdAt: now,
    updatedAt: now,
    title: input.title,
    model: input.model,
    settings: input.settings,
    status: NEW_BATCH,
    statusMessage: null,
    itemCount: rows.length,
    succeededCount: 0,
    failedCount: 0,
    blockedCount: 0,
    estimatedCostUsd: input.estimatedCostUsd,
    actualCostUsd: 0,
    budgetUsd: input.budgetUsd ?? null,
    priceListDate: input.priceListDate,
    mode: input.mode ?? "standard",
    promptBytes: promptRows.reduce(
      (sum, row) => sum + encoder.encode(row.text).length,
      0,
    ),
  };
  // One batch() call is one atomic transaction that no other statement can
  // interleave with, unlike an interactive transaction held across awaits.
  const inserts = [];
  // SQLite limits bound variables per statement; insert in chunks.
  if (input.newReferences?.length) {
    inserts.push(
      db.insert(referenceImages).values([...input.newReferences]),
    );
  }
  for (let i = 0; i < promptRows.length; i += 500) {
    inserts.push(db.insert(prompts).values(promptRows.slice(i, i + 500)));
  }
  for (let i = 0; i < rows.length; i += 500) {
    inserts.push(db.insert(items).values(rows.slice(i, i + 500)));
  }
  await db.batch([db.insert(batches).values(batch), ...inserts]);
  return batch;
}

/** One batch of the workspace, or undefined (also for another workspace's id). */
export async function getBatch(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<Batch | undefined> {
  return await db.query.batches.findFirst({
    where: and(eq(batches.id, id), eq(batches.workspaceId, workspaceId)),
  });
}

/** A batch by id in any workspace: only for the server's own upkeep (recovery). */
export async function findBatchById(
  db: Db,
  id: string,
): Promise<Batch | undefined> {
  return await db.query.batches.findFirst({ where: eq(batches.id, id) });
}

/** Stores a new budget cap (or none) on the batch; returns the updated record. */
export async function setBatchBudget(
  db: Db,
  batch: Batch,
  budgetUsd: number | null,
): Promise<Batch> {
  if (batch.budgetUsd === budgetUsd) return batch;
  const updatedAt = new Date();
  await db.update(batches).set({ budgetUsd, updatedAt }).where(
    eq(batches.id, batch.id),
  );
  return { ...batch, budgetUsd, updatedAt };
}

/** A batch's items in prompt order. */
export async function listItems(db: Db, batchId: string): Promise<Item[]> {
  return await selectItems(db).where(eq(items.batchId, batchId))
    .orderBy(asc(items.position), asc(items.imageIndex));
}

/** A batch's images. */
export async function listImages(db: Db, batchId: string): Promise<Image[]> {
  return await db.select().from(images).where(eq(images.batchId, batchId));
}

/** One image of a batch by file name. */
export async function findImage(
  db: Db,
  batchId: string,
  fileName: string,
): Promise<Image | undefined> {
  return await db.query.images.findFirst({
    where: and(eq(images.batchId, batchId), eq(images.fileName, fileName)),
  });
}

export interface BatchPage {
  batches: Batch[];
  nextCursor: string | null;
}

/** The workspace's batches, newest first, filtered by prompt or title text. */
export async function listBatches(
  db: Db,
  workspaceId: string,
  { cursor, limit = 20, query }: {
    cursor?: string;
    limit?: number;
    query?: string;
  } = {},
): Promise<BatchPage> {
  const conditions = [eq(batches.workspaceId, workspaceId)];
  const after = afterCursor(cursor, batches.createdAt, batches.id);
  if (after) conditions.push(after);
  if (query) {
    // Correlated, so only the items of the batches being paged through are
    // read (by the batch_id index), not every item of every workspace. No
    // index can serve a '%q%' match, so the prompt test itself is a scan of
    // the batch's items.
    const promptMatches = sql`exists (select 1 from ${prompts}
      where ${prompts.batchId} = ${batches.id}
      and ${contains(prompts.text, query)})`;
    conditions.push(or(contains(batches.title, query), promptMatches)!);
  }
  const rows = await db.select().from(batches).where(and(...conditions))
    .orderBy(desc(batches.createdAt), desc(batches.id)).limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    batches: page,
    nextCursor: nextCursorAfter(last, rows.length > limit),
  };
}

/** Deletes a batch with its items and images rows. */
export async function deleteBatch(db: Db, id: string): Promise<void> {
  await db.delete(batches).where(eq(batches.id, id));
}

/** What a workspace holds: batches, images (items) and stored bytes. */
export async function workspaceUsage(
  db: Db,
  workspaceId: string,
): Promise<QuotaUsage> {
  const [held] = await db.select({
    batches: sql<number>`count(*)`,
    items: sql<number>`coalesce(sum(${batches.itemCount}), 0)`,
    promptBytes: sql<number>`coalesce(sum(${batches.promptBytes}), 0)`,
  }).from(batches).where(eq(batches.workspaceId, workspaceId));
  const [stored] = await db.select({
    bytes: sql<number>`coalesce(sum(${images.bytes}), 0)`,
  }).from(images).innerJoin(batches, eq(images.batchId, batches.id)).where(
    eq(batches.workspaceId, workspaceId),
  );
  return {
    batches: Number(held?.batches ?? 0),
    items: Number(held?.items ?? 0),
    bytes: Number(held?.promptBytes ?? 0) + Number(stored?.bytes ?? 0),
  };
}
