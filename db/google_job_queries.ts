/**
 * Queries for Batch mode: the jobs a batch has at Google, and collecting
 * their results. Each result is written in one atomic statement batch that
 * only applies to an item still `submitted`, so syncing twice (or again after
 * a crash between download and save) never records an image or its cost
 * twice.
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { AnyColumn } from "drizzle-orm";
import type { Db } from "./client.ts";
import { imageRowQueries } from "./run_queries.ts";
import { newId } from "./ids.ts";
import { googleJobs, items } from "./schema.ts";
import type { GoogleJob } from "../core/records.ts";
import type { JobResult } from "../core/batch_results.ts";

export type { JobResult };
import { failedFields, succeededFields } from "../core/status.ts";

/** A job as submitted: what Google answered, and what it holds. */
export type NewJob = Omit<
  GoogleJob,
  "id" | "createdAt" | "updatedAt" | "collected" | "error"
>;

/** Records a created job and marks its items `submitted`, atomically. */
export async function recordSubmittedJob(
  db: Db,
  job: NewJob,
): Promise<GoogleJob> {
  const now = new Date();
  const record: GoogleJob = {
    ...job,
    id: newId(),
    collected: false,
    error: null,
    createdAt: now,
    updatedAt: now,
  };
  const marks = [];
  for (let i = 0; i < job.itemIds.length; i += 500) {
    marks.push(
      db.update(items).set({ status: "submitted", startedAt: now }).where(
        and(
          eq(items.batchId, job.batchId),
          inArray(items.id, job.itemIds.slice(i, i + 500)),
        ),
      ),
    );
  }
  await db.batch([db.insert(googleJobs).values(record), ...marks]);
  return record;
}

/** A batch's jobs, oldest first. */
export async function batchJobs(db: Db, batchId: string): Promise<GoogleJob[]> {
  return await db.select().from(googleJobs).where(
    eq(googleJobs.batchId, batchId),
  ).orderBy(asc(googleJobs.createdAt), asc(googleJobs.id));
}

/** Updates what BatchGen knows of a job. */
export async function updateJob(
  db: Db,
  id: string,
  fields: Partial<
    Pick<
      GoogleJob,
      | "state"
      | "succeededCount"
      | "failedCount"
      | "collected"
      | "error"
      | "uploadedFiles"
    >
  >,
): Promise<void> {
  await db.update(googleJobs).set({ ...fields, updatedAt: new Date() }).where(
    eq(googleJobs.id, id),
  );
}

/**
 * Records one item's result if it is still `submitted`; false when it was
 * collected before (nothing is written then).
 */
export async function recordJobResult(
  db: Db,
  batchId: string,
  itemId: string,
  result: JobResult,
): Promise<boolean> {
  const open = and(
    eq(items.id, itemId),
    eq(items.batchId, batchId),
    eq(items.status, "submitted"),
  );
  const still = await db.select({ id: items.id }).from(items).where(open);
  if (still.length === 0) return false;
  const now = new Date();
  if (result.kind === "cancelled") {
    await db.update(items).set({ status: "cancelled" }).where(open);
    return true;
  }
  const plus = (column: AnyColumn, amount: number) =>
    sql`coalesce(${column}, 0) + ${amount}`;
  const usage = result.usage
    ? {
      promptTokens: plus(items.promptTokens, result.usage.promptTokens),
      outputTokens: plus(items.outputTokens, result.usage.outputTokens),
      imageTokens: plus(items.imageTokens, result.usage.imageTokens),
      thoughtTokens: plus(items.thoughtTokens, result.usage.thoughtTokens),
      ...(result.costUsd === null
        ? {}
        : { costUsd: plus(items.costUsd, result.costUsd) }),
    }
    : {};
  if (result.kind === "failure") {
    await db.update(items).set({
      ...failedFields(result.failure, now),
      attempts: sql`${items.attempts} + 1`,
      ...usage,
    }).where(open);
    return true;
  }
  const { saved } = result;
  await db.batch([
    db.update(items).set({
      ...succeededFields(now),
      attempts: sql`${items.attempts} + 1`,
      ...usage,
    }).where(open),
    ...imageRowQueries(db, batchId, itemId, saved, now),
  ]);
  return true;
}
