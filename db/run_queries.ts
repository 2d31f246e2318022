/**
 * A batch's run state: which items a run picks up, moving items between
 * statuses, and the batch's counts, cost and status derived from its items.
 */
import { and, asc, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import {
  type Batch,
  batches,
  type BatchStatus,
  type Item,
  items,
  type ItemStatus,
} from "./schema.ts";

export type RunMode = "resume" | "retry";

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
  const [row] = await db.select({
    total: sql<number>`count(*)`,
    succeeded: countWhere(sql`${items.status} = 'succeeded'`),
    failed: countWhere(sql`${items.status} in ('failed','blocked')`),
    interrupted: countWhere(sql`${items.status} = 'interrupted'`),
    cancelled: countWhere(sql`${items.status} = 'cancelled'`),
    running: countWhere(sql`${items.status} = 'running'`),
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
  const [batch] = await db.update(batches).set({
    succeededCount: c.succeeded,
    failedCount: c.failed,
    actualCostUsd: Number(row?.cost ?? 0),
    status,
    statusMessage,
    updatedAt: new Date(),
  }).where(eq(batches.id, id)).returning();
  if (!batch) throw new RangeError(`Cannot settle batch ${id}: not found`);
  return batch;
}

function countWhere(condition: SQL) {
  return sql<number>`sum(case when ${condition} then 1 else 0 end)`;
}

/** What one generator event adds to a running batch's counts and cost. */
export interface BatchDelta {
  succeeded?: number;
  failed?: number;
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
  { succeeded = 0, failed = 0, costUsd = 0 }: BatchDelta,
): Promise<Batch> {
  const [batch] = await db.update(batches).set({
    succeededCount: sql`${batches.succeededCount} + ${succeeded}`,
    failedCount: sql`${batches.failedCount} + ${failed}`,
    actualCostUsd: sql`${batches.actualCostUsd} + ${costUsd}`,
    updatedAt: new Date(),
  }).where(eq(batches.id, id)).returning();
  if (!batch) throw new RangeError(`Cannot update batch ${id}: not found`);
  return batch;
}

/** Every batch left `running` (used by crash recovery at start). */
export async function listRunningBatchIds(db: Db): Promise<string[]> {
  const rows = await db.select({ id: batches.id }).from(batches).where(
    eq(batches.status, "running"),
  );
  return rows.map((r) => r.id);
}
