/** Queries for batches, their items and images. Every read is scoped to a workspace. */
import { and, asc, desc, eq, inArray, lt, or, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import {
  type Batch,
  batches,
  type BatchSettings,
  type BatchStatus,
  type Image,
  images,
  type Item,
  items,
  type ItemStatus,
} from "./schema.ts";

/** Makes an unguessable id (128 random bits, 32 lowercase base-36 digits). */
export function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(36).padStart(2, "0")).join("");
}

export interface NewBatch {
  workspaceId: string;
  title: string;
  model: string;
  settings: BatchSettings;
  prompts: readonly string[];
  estimatedCostUsd: number | null;
  priceListDate: string | null;
  budgetUsd?: number | null;
}

/** Stores a key-free batch with one pending item per prompt × image, atomically. */
export async function createBatch(db: Db, input: NewBatch): Promise<Batch> {
  const now = new Date();
  const id = newId();
  const rows = input.prompts.flatMap((prompt, position) =>
    Array.from({ length: input.settings.imagesPerPrompt }, (_, imageIndex) => ({
      id: newId(),
      batchId: id,
      position,
      imageIndex,
      prompt,
      status: "pending" as const,
    }))
  );
  const batch = {
    id,
    workspaceId: input.workspaceId,
    createdAt: now,
    updatedAt: now,
    title: input.title,
    model: input.model,
    settings: input.settings,
    status: "draft" as const,
    statusMessage: null,
    itemCount: rows.length,
    succeededCount: 0,
    failedCount: 0,
    estimatedCostUsd: input.estimatedCostUsd,
    actualCostUsd: 0,
    budgetUsd: input.budgetUsd ?? null,
    priceListDate: input.priceListDate,
  };
  // One batch() call is one atomic transaction that no other statement can
  // interleave with, unlike an interactive transaction held across awaits.
  const itemInserts = [];
  // SQLite limits bound variables per statement; insert in chunks.
  for (let i = 0; i < rows.length; i += 500) {
    itemInserts.push(db.insert(items).values(rows.slice(i, i + 500)));
  }
  await db.batch([db.insert(batches).values(batch), ...itemInserts]);
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

/** A batch's items in prompt order. */
export async function listItems(db: Db, batchId: string): Promise<Item[]> {
  return await db.select().from(items).where(eq(items.batchId, batchId))
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
  // The cursor is "<createdAt ms>_<id>" of the last batch shown: batches
  // created in the same millisecond are ordered, and paged, by id.
  const [time = "", lastId] = (cursor ?? "").split("_");
  const before = time ? Number(time) : NaN;
  if (Number.isFinite(before)) {
    const at = new Date(before);
    conditions.push(
      lastId
        ? or(
          lt(batches.createdAt, at),
          and(eq(batches.createdAt, at), lt(batches.id, lastId)),
        )!
        : lt(batches.createdAt, at),
    );
  }
  if (query) {
    const pattern = `%${query.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
    const matching = db.select({ id: items.batchId }).from(items).where(
      sql`${items.prompt} like ${pattern} escape '\\'`,
    );
    conditions.push(
      or(
        sql`${batches.title} like ${pattern} escape '\\'`,
        inArray(batches.id, matching),
      )!,
    );
  }
  const rows = await db.select().from(batches).where(and(...conditions))
    .orderBy(desc(batches.createdAt), desc(batches.id)).limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    batches: page,
    nextCursor: rows.length > limit && last
      ? `${last.createdAt.getTime()}_${last.id}`
      : null,
  };
}

/** Deletes a batch with its items and images rows. */
export async function deleteBatch(db: Db, id: string): Promise<void> {
  await db.delete(batches).where(eq(batches.id, id));
}

/** Items that a run in `mode` would (re)generate. */
export function runnableStatuses(mode: RunMode): ItemStatus[] {
  const resumable: ItemStatus[] = [
    "pending",
    "running",
    "interrupted",
    "cancelled",
  ];
  // Retry also re-tries blocked items: safety filters misfire on harmless
  // prompts, and the user asked for it (each attempt is billed by Google).
  return mode === "retry" ? [...resumable, "failed", "blocked"] : resumable;
}

export type RunMode = "resume" | "retry";

/** Items of the batch in `statuses`, in prompt order. */
export async function itemsWithStatus(
  db: Db,
  batchId: string,
  statuses: ItemStatus[],
): Promise<Item[]> {
  return await db.select().from(items).where(
    and(eq(items.batchId, batchId), inArray(items.status, statuses)),
  ).orderBy(asc(items.position), asc(items.imageIndex));
}

/** Sets a batch's status and message. */
export async function setBatchStatus(
  db: Db,
  id: string,
  status: BatchStatus,
  statusMessage: string | null = null,
): Promise<void> {
  await db.update(batches).set({ status, statusMessage, updatedAt: new Date() })
    .where(eq(batches.id, id));
}

/** Marks every item of the batch still in `from` as `to`. */
export async function moveItems(
  db: Db,
  batchId: string,
  from: ItemStatus[],
  to: ItemStatus,
): Promise<void> {
  await db.update(items).set({ status: to }).where(
    and(eq(items.batchId, batchId), inArray(items.status, from)),
  );
}

/** Recomputes counts, cost and status from the items; returns the batch. */
export async function settleBatch(
  db: Db,
  id: string,
  { statusMessage = null, running = false }: {
    statusMessage?: string | null;
    running?: boolean;
  } = {},
): Promise<Batch> {
  const [row] = await db.select({
    total: sql<number>`count(*)`,
    succeeded: sql<
      number
    >`sum(case when ${items.status} = 'succeeded' then 1 else 0 end)`,
    failed: sql<
      number
    >`sum(case when ${items.status} in ('failed','blocked') then 1 else 0 end)`,
    interrupted: sql<
      number
    >`sum(case when ${items.status} = 'interrupted' then 1 else 0 end)`,
    cancelled: sql<
      number
    >`sum(case when ${items.status} = 'cancelled' then 1 else 0 end)`,
    running: sql<
      number
    >`sum(case when ${items.status} = 'running' then 1 else 0 end)`,
    cost: sql<number>`coalesce(sum(${items.costUsd}), 0)`,
  }).from(items).where(eq(items.batchId, id));
  const c = {
    total: Number(row?.total ?? 0),
    succeeded: Number(row?.succeeded ?? 0),
    failed: Number(row?.failed ?? 0),
    interrupted: Number(row?.interrupted ?? 0),
    cancelled: Number(row?.cancelled ?? 0),
    running: Number(row?.running ?? 0),
  };
  const status: BatchStatus = running || c.running > 0
    ? "running"
    : c.interrupted > 0
    ? "interrupted"
    : c.cancelled > 0
    ? "cancelled"
    : c.succeeded === c.total
    ? "done"
    : c.succeeded + c.failed < c.total
    ? "draft"
    : c.succeeded > 0
    ? "partial"
    : "failed";
  await db.update(batches).set({
    succeededCount: c.succeeded,
    failedCount: c.failed,
    actualCostUsd: Number(row?.cost ?? 0),
    status,
    statusMessage,
    updatedAt: new Date(),
  }).where(eq(batches.id, id));
  const batch = await db.query.batches.findFirst({ where: eq(batches.id, id) });
  if (!batch) throw new RangeError(`Cannot settle batch ${id}: not found`);
  return batch;
}

/** Every batch left `running` (used by crash recovery at start). */
export async function listRunningBatchIds(db: Db): Promise<string[]> {
  const rows = await db.select({ id: batches.id }).from(batches).where(
    eq(batches.status, "running"),
  );
  return rows.map((r) => r.id);
}
