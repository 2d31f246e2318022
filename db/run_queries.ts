/**
 * The SQL of a run: which items it picks up, each event's item row, and the
 * batch's counts, cost and status. What the statuses mean and where items
 * move is decided in core/status.ts; these queries only apply it.
 */
import { and, type AnyColumn, asc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import { newId } from "./ids.ts";
import { type ItemRow, selectItems } from "./item_rows.ts";
import { batches, images, items } from "./schema.ts";
import type { SavedImage } from "../core/protocol.ts";
import type {
  Batch,
  BatchStatus,
  Image,
  Item,
  ItemStatus,
} from "../core/records.ts";
import {
  batchCounts,
  batchStatusFrom,
  failedFields,
  startedFields,
  type StatusCounts,
  succeededFields,
} from "../core/status.ts";
import type { Usage } from "../core/cost.ts";

/** Items of the batch in `statuses`, in prompt order. */
export async function itemsWithStatus(
  db: Db,
  batchId: string,
  statuses: readonly ItemStatus[],
): Promise<Item[]> {
  return await selectItems(db).where(
    and(eq(items.batchId, batchId), inArray(items.status, [...statuses])),
  ).orderBy(asc(items.position), asc(items.imageIndex));
}

/** Marks every item of the batch still in `from` as `to`. */
export async function moveItems(
  db: Db,
  batchId: string,
  from: readonly ItemStatus[],
  to: ItemStatus,
): Promise<void> {
  await db.update(items).set({ status: to }).where(
    and(eq(items.batchId, batchId), inArray(items.status, [...from])),
  );
}

/**
 * Recomputes counts, cost and status from the items; returns the batch.
 * It reads every item of the batch, so a run calls it at its start and end
 * only and applies each event with `addToBatch` in between.
 */
export async function settleBatch(
  db: Db,
  id: string,
  { statusMessage = null, running = false }: {
    statusMessage?: string | null;
    running?: boolean;
  } = {},
): Promise<Batch> {
  const rows = await db.select({
    status: items.status,
    count: sql<number>`count(*)`,
    cost: sql<number>`coalesce(sum(${items.costUsd}), 0)`,
  }).from(items).where(eq(items.batchId, id)).groupBy(items.status);
  const statuses: StatusCounts = {};
  let cost = 0;
  for (const row of rows) {
    statuses[row.status] = Number(row.count);
    cost += Number(row.cost);
  }
  const counts = batchCounts(statuses);
  const [batch] = await db.update(batches).set({
    succeededCount: counts.succeeded,
    failedCount: counts.failed,
    blockedCount: counts.blocked,
    actualCostUsd: cost,
    status: batchStatusFrom(statuses, { running }),
    statusMessage,
    updatedAt: new Date(),
  }).where(eq(batches.id, id)).returning();
  if (!batch) throw new RangeError(`Cannot settle batch ${id}: not found`);
  return batch;
}

/** What one generator event adds to a running batch's counts and cost. */
export interface BatchDelta {
  succeeded?: number;
  /** Items that ended without an image… */
  failed?: number;
  /** …and, of those, the ones Google blocked. */
  blocked?: number;
  costUsd?: number;
}

/**
 * Adds `delta` to the batch's counts and cost in one statement and returns
 * the batch. Only valid between a run's opening and closing `settleBatch`:
 * the opening one moves every item of the run out of the counts, and within
 * a run an item ends once (saved or failed), so each outcome is added once.
 * Status is left alone (it stays "running").
 */
export async function addToBatch(
  db: Db,
  id: string,
  delta: BatchDelta,
): Promise<Batch> {
  const [batch] = await addToBatchQuery(db, id, delta);
  if (!batch) throw new RangeError(`Cannot update batch ${id}: not found`);
  return batch;
}

/** `addToBatch` as an unexecuted statement, for one `db.batch` per event. */
export function addToBatchQuery(
  db: Db,
  id: string,
  { succeeded = 0, failed = 0, blocked = 0, costUsd = 0 }: BatchDelta,
) {
  return db.update(batches).set({
    succeededCount: sql`${batches.succeededCount} + ${succeeded}`,
    failedCount: sql`${batches.failedCount} + ${failed}`,
    blockedCount: sql`${batches.blockedCount} + ${blocked}`,
    actualCostUsd: sql`${batches.actualCostUsd} + ${costUsd}`,
    updatedAt: new Date(),
  }).where(eq(batches.id, id)).returning();
}

/** Every batch in `status` (crash recovery looks for those left running). */
export async function listBatchIdsWithStatus(
  db: Db,
  status: BatchStatus,
): Promise<string[]> {
  const rows = await db.select({ id: batches.id }).from(batches).where(
    eq(batches.status, status),
  );
  return rows.map((r) => r.id);
}

function inBatch(batchId: string, itemId: string) {
  return and(eq(items.id, itemId), eq(items.batchId, batchId));
}

/** Marks an item's attempt started; returns it (undefined if foreign). */
export async function markItemStarted(
  db: Db,
  batchId: string,
  itemId: string,
): Promise<ItemRow | undefined> {
  const [row] = await markItemStartedQuery(db, batchId, itemId);
  return row;
}

/** `markItemStarted` as a statement, for a `db.batch`. */
export function markItemStartedQuery(db: Db, batchId: string, itemId: string) {
  return db.update(items).set({
    ...startedFields(new Date()),
    attempts: sql`${items.attempts} + 1`,
  }).where(inBatch(batchId, itemId)).returning();
}

/** Records a saved image and marks its item succeeded, atomically. */
export async function recordImage(
  db: Db,
  batchId: string,
  itemId: string,
  saved: SavedImage,
): Promise<{ item: ItemRow; image: Image } | undefined> {
  const owned = await db.query.items.findFirst({
    where: inBatch(batchId, itemId),
  });
  if (!owned) return undefined;
  const [[item], , [image]] = await db.batch(
    recordImageQueries(db, batchId, itemId, saved),
  );
  return item && image ? { item, image } : undefined;
}

/**
 * `recordImage`'s three writes as unexecuted statements (the caller knows
 * the item is the batch's): a retried item replaces its earlier image row,
 * never duplicates it. Run them in one `db.batch`.
 */
export function recordImageQueries(
  db: Db,
  batchId: string,
  itemId: string,
  saved: SavedImage,
) {
  const now = new Date();
  return [
    db.update(items).set(succeededFields(now)).where(eq(items.id, itemId))
      .returning(),
    ...imageRowQueries(db, batchId, itemId, saved, now),
  ] as const;
}

/**
 * The image row of an item, replacing any earlier one (a retried item never
 * has two): part of the `db.batch` that marks the item succeeded.
 */
export function imageRowQueries(
  db: Db,
  batchId: string,
  itemId: string,
  saved: SavedImage,
  now: Date,
) {
  return [
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
      createdAt: now,
    }).returning(),
  ] as const;
}

/** Records an item's final failure (its message already scrubbed). */
export async function recordFailure(
  db: Db,
  batchId: string,
  itemId: string,
  failure: { kind: string; message: string },
): Promise<ItemRow | undefined> {
  const [item] = await recordFailureQuery(db, batchId, itemId, failure);
  return item;
}

/** `recordFailure` as an unexecuted statement. */
export function recordFailureQuery(
  db: Db,
  batchId: string,
  itemId: string,
  failure: { kind: string; message: string },
) {
  return db.update(items).set(failedFields(failure, new Date()))
    .where(inBatch(batchId, itemId)).returning();
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
  usage: Usage,
  costUsd: number | null,
): Promise<ItemRow | undefined> {
  const [item] = await recordUsageQuery(db, batchId, itemId, usage, costUsd);
  return item;
}

/** `recordUsage` as an unexecuted statement. */
export function recordUsageQuery(
  db: Db,
  batchId: string,
  itemId: string,
  usage: Usage,
  costUsd: number | null,
) {
  const plus = (column: AnyColumn, amount: number) =>
    sql`coalesce(${column}, 0) + ${amount}`;
  return db.update(items).set({
    promptTokens: plus(items.promptTokens, usage.promptTokens),
    outputTokens: plus(items.outputTokens, usage.outputTokens),
    imageTokens: plus(items.imageTokens, usage.imageTokens),
    thoughtTokens: plus(items.thoughtTokens, usage.thoughtTokens),
    ...(costUsd === null ? {} : { costUsd: plus(items.costUsd, costUsd) }),
  }).where(inBatch(batchId, itemId)).returning();
}

/** The item of a batch at a prompt position and image index. */
export async function findItemAt(
  db: Db,
  batchId: string,
  position: number,
  imageIndex: number,
): Promise<Item | undefined> {
  const [item] = await selectItems(db).where(
    and(
      eq(items.batchId, batchId),
      eq(items.position, position),
      eq(items.imageIndex, imageIndex),
    ),
  );
  return item;
}

/** The image row of an item, if it has one. */
export async function findImageOfItem(
  db: Db,
  itemId: string,
): Promise<Image | undefined> {
  return await db.query.images.findFirst({ where: eq(images.itemId, itemId) });
}
