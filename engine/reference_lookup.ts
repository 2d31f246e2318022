/**
 * Which reference images a new batch may use: the workspace's own, by id
 * (scripts), and the files uploaded with the form, by file name. The
 * validator (core/batch_plan.ts) refuses any name this cannot find.
 */
import type { Db } from "../db/client.ts";
import { referencesByIds } from "../db/reference_queries.ts";
import type { ReferenceInfo, ReferenceLookup } from "../core/batch_plan.ts";

/** Every text in `raw.references` and `raw.rows[].references`. */
function mentionedIds(raw: unknown): string[] {
  const ids: string[] = [];
  const collect = (value: unknown) => {
    const list = typeof value === "string" ? value.split(";") : value;
    if (!Array.isArray(list)) return;
    for (const id of list) if (typeof id === "string") ids.push(id.trim());
  };
  if (raw && typeof raw === "object") {
    const body = raw as Record<string, unknown>;
    collect(body.references);
    if (Array.isArray(body.rows)) {
      for (const row of body.rows.slice(0, 10_000)) {
        if (row && typeof row === "object") {
          collect((row as Record<string, unknown>).references);
        }
      }
    }
  }
  return [...new Set(ids)].filter(Boolean);
}

/** Looks up the workspace's references that the raw input names by id. */
export async function workspaceReferenceLookup(
  db: Db,
  workspaceId: string,
  raw: unknown,
  uploaded: readonly ReferenceInfo[] = [],
): Promise<ReferenceLookup> {
  const ids = mentionedIds(raw);
  const stored = ids.length === 0
    ? []
    : await referencesByIds(db, workspaceId, ids.slice(0, 5_000));
  const byKey = new Map<string, ReferenceInfo>();
  for (const ref of stored) byKey.set(ref.id, ref);
  // The form's uploads answer to their ids and to their file names.
  for (const ref of uploaded) byKey.set(ref.id, ref).set(ref.name, ref);
  return (key) => byKey.get(key);
}
