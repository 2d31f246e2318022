/**
 * Images across a workspace's batches (the gallery) and each batch's first
 * saved image (History's thumbnails). Every read is scoped to a workspace,
 * through the batch the image belongs to.
 */
import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import { afterCursor, contains, nextCursorAfter } from "./paging.ts";
import { batches, images, items, prompts } from "./schema.ts";
import type { Batch, BatchStatus, Image, Item } from "../core/records.ts";

/** One gallery entry: the image, the item it answers (with its prompt), its batch. */
export interface GalleryImage {
  image: Image;
  item: Item;
  batch: Batch;
}

export interface GalleryFilter {
  /** Text the prompt contains (any case; `%` and `_` are literal). */
  query?: string;
  /** A model id: only images of batches of that model. */
  model?: string;
  /** Only images of batches with this status. */
  status?: BatchStatus;
}

export interface GalleryPage {
  images: GalleryImage[];
  /** `<image createdAt ms>_<image id>` of the last image shown, or null. */
  nextCursor: string | null;
}

/**
 * The workspace's images, newest first, filtered by prompt text, model and
 * batch status, `limit` at a time after `cursor` (a previous `nextCursor`).
 */
export async function listGalleryImages(
  db: Db,
  workspaceId: string,
  { cursor, limit = 24, query, model, status }: GalleryFilter & {
    cursor?: string;
    limit?: number;
  } = {},
): Promise<GalleryPage> {
  const conditions = [eq(batches.workspaceId, workspaceId)];
  const after = afterCursor(cursor, images.createdAt, images.id);
  if (after) conditions.push(after);
  if (query) conditions.push(contains(prompts.text, query));
  if (model) conditions.push(eq(batches.model, model));
  if (status) conditions.push(eq(batches.status, status));
  const rows = await db.select({
    image: images,
    item: items,
    row: prompts,
    batch: batches,
  }).from(images)
    .innerJoin(batches, eq(images.batchId, batches.id))
    .innerJoin(items, eq(images.itemId, items.id))
    .innerJoin(
      prompts,
      and(
        eq(prompts.batchId, items.batchId),
        eq(prompts.position, items.position),
      ),
    )
    .where(and(...conditions))
    .orderBy(desc(images.createdAt), desc(images.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit).map((row) => {
    const { batchId: _b, position: _p, text, ...settings } = row.row;
    return {
      image: row.image,
      item: { ...row.item, prompt: text, ...settings },
      batch: row.batch,
    };
  });
  const last = page.at(-1)?.image;
  return {
    images: page,
    nextCursor: nextCursorAfter(last, rows.length > limit),
  };
}

/**
 * The first saved image of each of `batchIds` (the caller has already scoped
 * them to a workspace), by batch id; one query for all of them. A batch
 * without images has no entry.
 */
export async function firstImages(
  db: Db,
  batchIds: readonly string[],
): Promise<Map<string, Image>> {
  const first = new Map<string, Image>();
  if (batchIds.length === 0) return first;
  const earliest = sql`(select min(i2.created_at) from ${images} i2
    where i2.batch_id = ${images.batchId})`;
  const rows = await db.select().from(images).where(
    and(
      inArray(images.batchId, [...batchIds]),
      eq(images.createdAt, earliest),
    ),
  ).orderBy(asc(images.createdAt), asc(images.id));
  // Two images saved in the same millisecond: the one with the smaller id.
  for (const row of rows) {
    if (!first.has(row.batchId)) first.set(row.batchId, row);
  }
  return first;
}
