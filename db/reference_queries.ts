/**
 * Queries for reference images. Reads for the web are scoped to a workspace;
 * the engine looks files up by hash, which says nothing about who owns them.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "./client.ts";
import { newId } from "./ids.ts";
import { referenceImages } from "./schema.ts";
import type { ReferenceImage } from "../core/records.ts";

/** A reference image to record; the id and time are given here. */
export type NewReference = Omit<ReferenceImage, "id" | "createdAt">;

/** Records the uploaded images atomically (one batch) and returns them. */
export async function insertReferences(
  db: Db,
  rows: readonly NewReference[],
): Promise<ReferenceImage[]> {
  const createdAt = new Date();
  const records = rows.map((row) => ({ ...row, id: newId(), createdAt }));
  // SQLite limits bound variables per statement; insert in chunks.
  const inserts = [];
  for (let i = 0; i < records.length; i += 500) {
    inserts.push(db.insert(referenceImages).values(records.slice(i, i + 500)));
  }
  const [first, ...rest] = inserts;
  if (first) await db.batch([first, ...rest]);
  return records;
}

/** One reference image of the workspace; undefined for another workspace's id. */
export async function getReference(
  db: Db,
  workspaceId: string,
  id: string,
): Promise<ReferenceImage | undefined> {
  return await db.query.referenceImages.findFirst({
    where: and(
      eq(referenceImages.id, id),
      eq(referenceImages.workspaceId, workspaceId),
    ),
  });
}

/**
 * The workspace's reference images with these ids, in the order asked
 * (each once); ids that are unknown or another workspace's are left out, so
 * a caller compares lengths to find them.
 */
export async function referencesByIds(
  db: Db,
  workspaceId: string,
  ids: readonly string[],
): Promise<ReferenceImage[]> {
  const wanted = [...new Set(ids)];
  const rows = await inChunks(
    wanted,
    (chunk) =>
      db.query.referenceImages.findMany({
        where: and(
          eq(referenceImages.workspaceId, workspaceId),
          inArray(referenceImages.id, chunk),
        ),
      }),
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return wanted.flatMap((id) => byId.get(id) ?? []);
}

/**
 * One recorded image per hash, in any workspace: for the engine, which
 * needs a file's type to find it. Rows that share a hash share their bytes
 * and type, so any one of them will do.
 */
export async function referencesBySha(
  db: Db,
  shas: readonly string[],
): Promise<ReferenceImage[]> {
  const wanted = [...new Set(shas)];
  const rows = await inChunks(
    wanted,
    (chunk) =>
      db.query.referenceImages.findMany({
        where: inArray(referenceImages.sha256, chunk),
      }),
  );
  const bySha = new Map<string, ReferenceImage>();
  for (const row of rows) {
    if (!bySha.has(row.sha256)) bySha.set(row.sha256, row);
  }
  return wanted.flatMap((sha) => bySha.get(sha) ?? []);
}

// SQLite limits bound variables per statement: look long lists up in parts.
async function inChunks<T>(
  values: readonly string[],
  find: (chunk: string[]) => Promise<T[]>,
): Promise<T[]> {
  const found: T[] = [];
  for (let i = 0; i < values.length; i += 500) {
    found.push(...await find(values.slice(i, i + 500)));
  }
  return found;
}
